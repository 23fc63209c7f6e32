import { describe, expect, it } from "vitest";
import { parseOAuthError, parseTokenResponse } from "../../src/google/token-response.js";

const json = (body: unknown) => JSON.stringify(body);
const SECRETS = { access_token: "ya29.SECRET-A", refresh_token: "1//SECRET-R" };

describe("parseTokenResponse", () => {
  it("reads Google's 200 into Steward's names, the id_token carried as sent", () => {
    expect(
      parseTokenResponse(
        json({
          ...SECRETS,
          expires_in: 3599,
          token_type: "Bearer",
          scope: "openid https://www.googleapis.com/auth/drive.appdata  email",
          id_token: "eyJ.a.b",
        }),
      ),
    ).toEqual({
      accessToken: "ya29.SECRET-A",
      refreshToken: "1//SECRET-R",
      idToken: "eyJ.a.b",
      expiresInSeconds: 3599,
      scopes: ["openid", "https://www.googleapis.com/auth/drive.appdata", "email"],
    });
  });

  it("takes a refresh's answer (no refresh_token, no scope, expires_in as a string)", () => {
    expect(
      parseTokenResponse(json({ access_token: "ya29.b", token_type: "bearer", expires_in: "60" })),
    ).toEqual({
      accessToken: "ya29.b",
      refreshToken: undefined,
      idToken: undefined,
      expiresInSeconds: 60,
      scopes: [],
    });
  });

  it("takes an id_token that is not a string as none", () => {
    expect(
      parseTokenResponse(json({ access_token: "a", token_type: "Bearer", id_token: 42 })),
    ).toMatchObject({ idToken: undefined });
  });

  it.each([
    ["not JSON", "<html>", "the body is not a JSON object"],
    ["a JSON array", "[1]", "the body is not a JSON object"],
    ["no access_token", json({ token_type: "Bearer" }), "access_token is missing"],
    ["a MAC token", json({ ...SECRETS, token_type: "mac" }), "token_type is not Bearer"],
    [
      "a numeric refresh_token",
      json({ ...SECRETS, token_type: "Bearer", refresh_token: 1 }),
      "refresh_token is not a string",
    ],
    [
      "a negative expires_in",
      json({ ...SECRETS, token_type: "Bearer", expires_in: -1 }),
      "expires_in is not a number of seconds",
    ],
    [
      "a garbled expires_in",
      json({ ...SECRETS, token_type: "Bearer", expires_in: "soon" }),
      "expires_in is not a number of seconds",
    ],
    [
      "a scope list",
      json({ ...SECRETS, token_type: "Bearer", scope: ["email"] }),
      "scope is not a string",
    ],
  ])("refuses %s, naming the field and never a value", (_case, text, problem) => {
    const result = parseTokenResponse(text);
    expect(result).toEqual({ problem });
    expect(JSON.stringify(result)).not.toContain("SECRET");
  });
});

describe("parseOAuthError", () => {
  it("reads an OAuth error body, and nothing else as one", () => {
    expect(
      parseOAuthError(json({ error: "invalid_grant", error_description: "Bad Request" })),
    ).toEqual({
      error: "invalid_grant",
      description: "Bad Request",
    });
    expect(parseOAuthError(json({ error: "invalid_client" }))).toEqual({
      error: "invalid_client",
      description: undefined,
    });
    expect(parseOAuthError("<html>down</html>")).toBeUndefined();
    expect(parseOAuthError(json({ error: 400 }))).toBeUndefined();
  });
});
