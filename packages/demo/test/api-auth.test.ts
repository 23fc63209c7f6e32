import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { control, sdkSignIn } from "../../steward/test/emulator/helpers.js";
import { PHOTOS_APPEND_SCOPE, PHOTOS_READ_SCOPE } from "../src/features.js";
import { DemoSessions, SESSION_COOKIE } from "../src/session.js";
import { dullPhoto } from "./photo-fixture.js";
import { startDemoService, type TestService } from "./support/demo-service.js";

const SCOPES = ["openid", "email", "profile", PHOTOS_APPEND_SCOPE, PHOTOS_READ_SCOPE];
let steward: TestService;

beforeAll(async () => {
  steward = await startDemoService();
}, 120_000);
afterAll(() => steward?.close());

const XRW = { "x-requested-with": "XMLHttpRequest" };
const call = (path: string, init: RequestInit = {}) => fetch(`${steward.url}${path}`, init);

/** Signs in through the demo API as the page does; returns the session cookie. */
async function demoSession(email: string, scopes = SCOPES) {
  const { serverAuthCode, idToken, sub } = await sdkSignIn(steward.google, { email, scopes });
  const response = await call("/demo/api/session", {
    method: "POST",
    headers: { ...XRW, "content-type": "application/json" },
    body: JSON.stringify({ code: serverAuthCode }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const setCookie = response.headers.get("set-cookie") ?? "";
  return {
    sub,
    idToken,
    body: JSON.parse(text),
    setCookie,
    cookie: setCookie.split(";")[0] as string,
  };
}

describe("the demo API's authentication", () => {
  it("opens an httpOnly, SameSite=Strict session after the code exchange, and leaks no token", async () => {
    const { body, setCookie, sub } = await demoSession("session@example.com");
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/demo");
    expect(body.user.sub).toBe(sub);
    expect(body.offlineAccess).toBe(true);
    expect(body.features.every((feature: { granted: boolean }) => feature.granted)).toBe(true);
    expect(JSON.stringify(body)).not.toMatch(/ya29\.|1\/\/|refresh|idToken/i);
  });

  it("refuses no credential, a forged or foreign session, and a foreign ID token with 401", async () => {
    const { cookie, sub } = await demoSession("victim@example.com");
    const otherProcess = new DemoSessions().issue(sub, false).split(";")[0] as string;
    const [name, value] = cookie.split("=") as [string, string];
    const [encodedSub, expires, mac] = value.split(".");
    const forgedSub = `${name}=${Buffer.from("1").toString("base64url")}.${expires}.${mac}`;
    const longer = `${name}=${encodedSub}.${Number(expires) + 3600}.${mac}`;
    const other = await control(steward.google, "POST", "/emulator/clients", { type: "web" });
    const foreign = await sdkSignIn(steward.google, {
      email: "victim@example.com",
      scopes: SCOPES,
      clientId: other.body.clientId,
    });
    const cases: Array<[string, Record<string, string>, string]> = [
      ["nothing", {}, "unauthenticated"],
      ["another process's session", { cookie: otherProcess }, "unauthenticated"],
      ["a session with another sub", { cookie: forgedSub }, "unauthenticated"],
      ["a session made to last longer", { cookie: longer }, "unauthenticated"],
      ["garbage", { cookie: `${name}=a.b.c.d` }, "unauthenticated"],
      [
        "an ID token of another app",
        { authorization: `Bearer ${foreign.idToken}` },
        "id_token_invalid",
      ],
      ["not a JWT", { authorization: "Bearer x" }, "id_token_invalid"],
    ];
    for (const [label, headers, code] of cases) {
      for (const path of ["/demo/api/state", "/demo/api/media/AAAA"]) {
        const response = await call(path, { headers });
        expect(response.status, `${label} ${path}`).toBe(401);
        expect((await response.json()).error.code, label).toBe(code);
      }
    }
    const upload = await call("/demo/api/photos", {
      method: "POST",
      headers: { ...XRW, "content-type": "image/jpeg", cookie: forgedSub },
      body: await dullPhoto(32, 32),
    });
    expect(upload.status).toBe(401);
    const good = await call("/demo/api/state", { headers: { cookie } });
    expect(good.status).toBe(200);
    expect((await good.json()).user.sub).toBe(sub);
  });

  it("ends the session on sign-out: a copy of the cookie kept elsewhere stops working", async () => {
    const { cookie } = await demoSession("sign-out@example.com");
    expect((await call("/demo/api/state", { headers: { cookie } })).status).toBe(200);
    const out = await call("/demo/api/session", { method: "DELETE", headers: { ...XRW, cookie } });
    expect(await out.json()).toEqual({ signedOut: true });
    expect((await call("/demo/api/state", { headers: { cookie } })).status).toBe(401);
  });

  it("takes the user's own Google ID token as the bearer, as /v1/me does", async () => {
    const { idToken, sub } = await demoSession("bearer@example.com");
    const response = await call("/demo/api/state", {
      headers: { authorization: `Bearer ${idToken}` },
    });
    expect(response.status).toBe(200);
    const state = await response.json();
    expect(state.user.sub).toBe(sub);
    expect(state.connection).toMatchObject({ status: "active", offlineAccess: true });
  });

  it("refuses a cross-site write: no X-Requested-With (403), another Origin (403)", async () => {
    const { cookie } = await demoSession("csrf@example.com");
    const photo = await dullPhoto(32, 32);
    const noHeader = await call("/demo/api/photos", {
      method: "POST",
      headers: { cookie, "content-type": "image/jpeg" },
      body: photo,
    });
    expect(noHeader.status).toBe(403);
    expect((await noHeader.json()).error.code).toBe("csrf_header_missing");
    const otherOrigin = await call("/demo/api/enhance", {
      method: "POST",
      headers: {
        ...XRW,
        cookie,
        "content-type": "application/json",
        origin: "https://evil.example",
      },
      body: JSON.stringify({ mediaItemId: "AAAA" }),
    });
    expect(otherOrigin.status).toBe(403);
    expect((await otherOrigin.json()).error.code).toBe("origin_not_allowed");
  });
});

describe("photos through the demo API", () => {
  it("uploads into the app's album as the user and serves the bytes back, same origin", async () => {
    const { cookie } = await demoSession("uploader@example.com");
    const photo = await dullPhoto(64, 48);
    const upload = await call("/demo/api/photos", {
      method: "POST",
      headers: { ...XRW, cookie, "content-type": "image/jpeg", "x-file-name": "caf%C3%A9.jpg" },
      body: photo,
    });
    expect(upload.status).toBe(200);
    const { album, mediaItem } = await upload.json();
    expect(album.title).toBe("Steward demo");
    expect(mediaItem.filename).toBe("café.jpg");
    const state = await (await call("/demo/api/state", { headers: { cookie } })).json();
    expect(state.albums).toEqual([{ id: album.id, title: "Steward demo", items: [mediaItem] }]);
    const media = await call(mediaItem.src, { headers: { cookie } });
    expect(media.status).toBe(200);
    expect(media.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.compare(Buffer.from(await media.arrayBuffer()), photo)).toBe(0);

    // Another user cannot see it: Google Photos shows an app only what it made for that user.
    const other = await demoSession("someone-else@example.com");
    const foreign = await call(mediaItem.src, { headers: { cookie: other.cookie } });
    expect(foreign.status).toBe(404);
  });

  it("queues one enhancing job for a photo however often it is asked while that job is pending", async () => {
    const { cookie } = await demoSession("double-click@example.com");
    const upload = await call("/demo/api/photos", {
      method: "POST",
      headers: { ...XRW, cookie, "content-type": "image/jpeg" },
      body: await dullPhoto(32, 32),
    });
    const { mediaItem } = await upload.json();
    const enhance = () =>
      call("/demo/api/enhance", {
        method: "POST",
        headers: { ...XRW, cookie, "content-type": "application/json" },
        body: JSON.stringify({ mediaItemId: mediaItem.id }),
      }).then(async (response) => ({ status: response.status, ...(await response.json()) }));
    const [first, second] = await Promise.all([enhance(), enhance()]);
    expect(first).toMatchObject({ status: 202, jobId: expect.any(String) });
    expect(second).toEqual(first);
  });

  it("names the feature that is off when a scope was unticked, and refuses what is no photo", async () => {
    const { cookie, body } = await demoSession("partial@example.com", [
      "openid",
      "email",
      PHOTOS_READ_SCOPE,
    ]);
    expect(body.features).toContainEqual(
      expect.objectContaining({ id: "upload", granted: false, scope: PHOTOS_APPEND_SCOPE }),
    );
    const refused = await call("/demo/api/photos", {
      method: "POST",
      headers: { ...XRW, cookie, "content-type": "image/jpeg" },
      body: await dullPhoto(16, 16),
    });
    expect(refused.status).toBe(403);
    const error = (await refused.json()).error;
    expect(error.code).toBe("scope_not_granted");
    expect(error.message).toContain("Uploading photos");

    const full = await demoSession("html@example.com");
    const html = await call("/demo/api/photos", {
      method: "POST",
      headers: { ...XRW, cookie: full.cookie, "content-type": "image/png" },
      body: "<html><script>alert(1)</script></html>",
    });
    expect(html.status).toBe(415);
    expect((await html.json()).error.code).toBe("unsupported_media_type");
  });
});
