import { describe, expect, it } from "vitest";
import { EmulatorState } from "../src/state.js";

describe("EmulatorState access tokens", () => {
  it("kills every access token of a revoked grant, and a re-consent does not revive them", () => {
    const state = new EmulatorState();
    const client = state.registerClient({ type: "web" });
    const user = state.createUser({ email: "epoch@example.com" });
    const refreshToken = state.issueRefreshToken(user.sub, client.clientId, ["openid"]);
    const withRefresh = state.issueAccessToken(
      user.sub,
      client.clientId,
      ["openid"],
      refreshToken,
    ).accessToken;
    const withoutRefresh = state.issueAccessToken(
      user.sub,
      client.clientId,
      ["openid"],
      undefined,
    ).accessToken;
    expect(state.liveAccessToken(withRefresh)).toBeDefined();

    expect(state.revokeGrant(user.sub, client.clientId)).toBe(1);
    expect(state.liveAccessToken(withRefresh)).toBeUndefined();
    expect(state.liveAccessToken(withoutRefresh)).toBeUndefined();

    state.issueRefreshToken(user.sub, client.clientId, ["openid"]);
    const fresh = state.issueAccessToken(
      user.sub,
      client.clientId,
      ["openid"],
      undefined,
    ).accessToken;
    expect(state.liveAccessToken(fresh)).toBeDefined();
    expect(state.liveAccessToken(withoutRefresh)).toBeUndefined();
  });

  it("kills the access tokens of an evicted refresh token only", () => {
    const state = new EmulatorState();
    state.settings.refreshTokenLimit = 1;
    const client = state.registerClient({ type: "web" });
    const user = state.createUser({ email: "evict@example.com" });
    const oldest = state.issueRefreshToken(user.sub, client.clientId, ["openid"]);
    const oldAccess = state.issueAccessToken(
      user.sub,
      client.clientId,
      ["openid"],
      oldest,
    ).accessToken;
    const newest = state.issueRefreshToken(user.sub, client.clientId, ["openid"]);
    const newAccess = state.issueAccessToken(
      user.sub,
      client.clientId,
      ["openid"],
      newest,
    ).accessToken;
    expect(state.liveRefreshToken(oldest)).toBeUndefined();
    expect(state.liveAccessToken(oldAccess)).toBeUndefined();
    expect(state.liveAccessToken(newAccess)).toBeDefined();
  });

  it("drops expired tokens", () => {
    let now = 1_000_000;
    const state = new EmulatorState(() => now);
    const client = state.registerClient({ type: "web" });
    const user = state.createUser({ email: "expire@example.com" });
    state.recordConsent(user.sub, client.clientId, ["openid"]);
    const { accessToken, expiresIn } = state.issueAccessToken(
      user.sub,
      client.clientId,
      ["openid"],
      undefined,
    );
    now += expiresIn * 1000 - 1;
    expect(state.liveAccessToken(accessToken)).toBeDefined();
    now += 1;
    expect(state.liveAccessToken(accessToken)).toBeUndefined();
  });
});
