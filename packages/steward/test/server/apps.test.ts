// The app seam: an app mounted on the service gets Steward's operations (sign-in exchange, ID
// token check, the stored user's public view), the browser guards, the error envelope and the
// rate limit, on the service's own origin; an emulator-only app is left out against Google.
import { Type } from "@sinclair/typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StewardError } from "../../src/errors.js";
import { type AppContext, appsToMount, type StewardApp } from "../../src/server/apps.js";
import { sdkSignIn } from "../emulator/helpers.js";
import { startTestService, type TestService } from "./helpers.js";

const hello: StewardApp = {
  name: "Hello",
  plugin: async (app, steward: AppContext) => {
    app.post<{ Body: { code: string } }>(
      "/hello/api/sign-in",
      {
        config: { rateLimited: true },
        preHandler: steward.guardBrowserPost,
        schema: { body: Type.Object({ code: Type.String() }) },
      },
      async (request) => {
        const { user, grantedScopes } = await steward.signIn(request.body);
        return { sub: user.sub, grantedScopes };
      },
    );
    app.get("/hello/api/me", async (request) => {
      const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
      if (bearer === undefined) throw new StewardError("unauthenticated");
      const stored = await steward.user(await steward.verifyIdToken(bearer));
      return { profile: stored?.profile, status: stored?.credential?.status };
    });
  },
};

let steward: TestService;
beforeAll(async () => {
  steward = await startTestService({}, { apps: [hello], rateLimitPerMinute: 5 });
}, 120_000);
afterAll(() => steward?.close());

const signInBody = (code: string) => JSON.stringify({ code });

describe("an app mounted on the service", () => {
  it("signs a user in through the service's own exchange and sees the stored public profile", async () => {
    const { serverAuthCode, idToken, sub } = await sdkSignIn(steward.google, {
      email: "mounted@example.com",
    });
    const signedIn = await fetch(`${steward.url}/hello/api/sign-in`, {
      method: "POST",
      headers: { "x-requested-with": "XMLHttpRequest", "content-type": "application/json" },
      body: signInBody(serverAuthCode),
    });
    expect(signedIn.status).toBe(200);
    expect((await signedIn.json()).sub).toBe(sub);

    const me = await fetch(`${steward.url}/hello/api/me`, {
      headers: { authorization: `Bearer ${idToken}` },
    });
    const body = await me.json();
    expect(body.status).toBe("active");
    expect(body.profile).toMatchObject({ sub, email: "mounted@example.com" });
    // The public view only: no token, no key, nothing of the credential's secrets.
    expect(JSON.stringify(body)).not.toMatch(/token|kid/i);
    // Helmet's headers reach the app's routes: they are in the browsers' scope.
    expect(me.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers with the service's envelope: its guards, a forged ID token, no credential", async () => {
    const forged = await fetch(`${steward.url}/hello/api/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: signInBody("whatever"),
    });
    expect([forged.status, (await forged.json()).error.code]).toEqual([403, "csrf_header_missing"]);
    const badToken = await fetch(`${steward.url}/hello/api/me`, {
      headers: { authorization: "Bearer not.a.jwt" },
    });
    expect([badToken.status, (await badToken.json()).error.code]).toEqual([
      401,
      "id_token_invalid",
    ]);
    const none = await fetch(`${steward.url}/hello/api/me`);
    expect([none.status, (await none.json()).error.code]).toEqual([401, "unauthenticated"]);
  });

  it("counts a route that asks for it against the service's per-address rate limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await fetch(`${steward.url}/hello/api/sign-in`, {
        method: "POST",
        headers: { "x-requested-with": "XMLHttpRequest", "content-type": "application/json" },
        body: signInBody(`bad-code-${i}`),
      });
      statuses.push(response.status);
    }
    expect(statuses).toContain(429);
  });
});

describe("appsToMount", () => {
  it("leaves an emulator-only app out against Google, and keeps the others in order", () => {
    const only = { ...hello, name: "Only", emulatorOnly: true };
    const plain = { ...hello, name: "Plain" };
    expect(appsToMount([only, plain], false).map((app) => app.name)).toEqual(["Plain"]);
    expect(appsToMount([only, plain], true).map((app) => app.name)).toEqual(["Only", "Plain"]);
  });
});
