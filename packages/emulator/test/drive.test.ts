import { setTimeout as sleep } from "node:timers/promises";
import { drive, type drive_v3 } from "@googleapis/drive";
import { OAuth2Client } from "google-auth-library";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { control, exchangeCode, postForm, sdkSignIn, withEmulator } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";

let google: Emulator;
let rootUrl: string;

beforeAll(async () => {
  google = await withEmulator();
  rootUrl = `${google.url}/`;
});
afterAll(() => google.close());

interface SignedIn {
  sub: string;
  accessToken: string;
  refreshToken: string;
  auth: OAuth2Client;
  files: drive_v3.Resource$Files;
}

/** A user signs in on the app; the backend exchanges the code and builds Google's own client. */
async function signIn(email: string, scopes: string[] = [APPDATA]): Promise<SignedIn> {
  const { serverAuthCode, sub } = await sdkSignIn(google, { email, scopes });
  const { status, body } = await exchangeCode(google, serverAuthCode);
  expect(status).toBe(200);
  const auth = oauthClient({ access_token: body.access_token, refresh_token: body.refresh_token });
  return {
    sub,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    auth,
    files: drive({ version: "v3", auth, rootUrl }).files,
  };
}

function oauthClient(credentials: { access_token?: string; refresh_token?: string }) {
  const auth = new OAuth2Client({
    clientId: google.defaultClient.clientId,
    clientSecret: google.defaultClient.clientSecret as string,
    endpoints: { oauth2TokenUrl: `${google.url}/token` },
  });
  auth.setCredentials(credentials);
  return auth;
}

/** The rejection of a client call: status and Google's JSON body. */
async function failure(call: Promise<unknown>): Promise<{ status: number; body: any }> {
  const error: any = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (rejection: unknown) => rejection,
  );
  return { status: error.response?.status, body: error.response?.data };
}

async function createConfig(files: drive_v3.Resource$Files, name: string, content: string) {
  const { data } = await files.create(
    {
      requestBody: { name, parents: ["appDataFolder"] },
      media: { mimeType: "application/json", body: content },
      fields: "id, name, mimeType, parents, size, md5Checksum",
    },
    // Media uploads take their URL from the per-call rootUrl, not the global one.
    { rootUrl },
  );
  return data;
}

describe("Drive appDataFolder through @googleapis/drive", () => {
  it("creates (multipart), lists, gets, downloads and deletes a file", async () => {
    const { files } = await signIn("drive-happy@example.com");
    const folder = (await files.get({ fileId: "appDataFolder", fields: "id" })).data;
    expect(Object.keys(folder)).toEqual(["id"]);

    const content = JSON.stringify({ theme: "dark", ids: [1, 2, 3] });
    const created = await createConfig(files, "config.json", content);
    expect(created).toMatchObject({
      name: "config.json",
      mimeType: "application/json",
      parents: [folder.id],
      size: String(Buffer.byteLength(content)),
    });
    expect(created.md5Checksum).toMatch(/^[0-9a-f]{32}$/);

    const listed = await files.list({
      spaces: "appDataFolder",
      fields: "nextPageToken, files(id, name)",
      pageSize: 100,
    });
    expect(listed.data).toEqual({ files: [{ id: created.id, name: "config.json" }] });

    const metadata = await files.get({ fileId: created.id as string });
    expect(metadata.data).toEqual({
      kind: "drive#file",
      id: created.id,
      name: "config.json",
      mimeType: "application/json",
    });

    const download = await files.get(
      { fileId: created.id as string, alt: "media" },
      { responseType: "arraybuffer" },
    );
    expect(Buffer.from(download.data as unknown as ArrayBuffer).toString("utf8")).toBe(content);

    const deleted = await files.delete({ fileId: created.id as string });
    expect(deleted.status).toBe(204);
    const gone = await failure(files.get({ fileId: created.id as string }));
    expect(gone.status).toBe(404);
  });

  it("answers both folder aliases with the Application Data folder", async () => {
    const { files } = await signIn("drive-aliases@example.com");
    const modern = (await files.get({ fileId: "appDataFolder" })).data;
    const legacy = (await files.get({ fileId: "appfolder" })).data;
    expect(modern).toEqual({
      kind: "drive#file",
      id: expect.stringMatching(/^0A/),
      name: "Application Data",
      mimeType: "application/vnd.google-apps.folder",
    });
    expect(legacy).toEqual(modern);
  });

  it("pages a listing and filters it with q", async () => {
    const { files } = await signIn("drive-pages@example.com");
    for (const name of ["a.json", "b.json", "c.json"]) await createConfig(files, name, "{}");

    const first = await files.list({ spaces: "appDataFolder", pageSize: 2, orderBy: "name" });
    expect(first.data.files?.map((file) => file.name)).toEqual(["a.json", "b.json"]);
    expect(first.data.nextPageToken).toEqual(expect.any(String));
    const second = await files.list({
      spaces: "appDataFolder",
      pageSize: 2,
      orderBy: "name",
      pageToken: first.data.nextPageToken as string,
    });
    expect(second.data.files?.map((file) => file.name)).toEqual(["c.json"]);
    expect(second.data.nextPageToken).toBeUndefined();

    const named = await files.list({
      spaces: "appDataFolder",
      q: "'appDataFolder' in parents and name = 'b.json'",
    });
    expect(named.data.files?.map((file) => file.name)).toEqual(["b.json"]);

    const badToken = await failure(
      files.list({ spaces: "appDataFolder", pageToken: "not-a-token" }),
    );
    expect(badToken).toEqual({
      status: 400,
      body: {
        error: {
          code: 400,
          message: "Invalid Value",
          errors: [
            {
              message: "Invalid Value",
              domain: "global",
              reason: "invalid",
              location: "pageToken",
              locationType: "parameter",
            },
          ],
        },
      },
    });
  });

  it("updates content and metadata with PATCH", async () => {
    const { files } = await signIn("drive-update@example.com");
    const created = await createConfig(files, "state.json", '{"v":1}');
    const updated = await files.update(
      {
        fileId: created.id as string,
        requestBody: { name: "state-v2.json", appProperties: { schema: "2" } },
        media: { mimeType: "application/json", body: '{"v":2}' },
        fields: "name, appProperties, version",
      },
      { rootUrl },
    );
    expect(updated.data).toEqual({
      name: "state-v2.json",
      appProperties: { schema: "2" },
      version: "2",
    });
    const download = await files.get(
      { fileId: created.id as string, alt: "media" },
      { responseType: "text" },
    );
    expect(download.data).toBe('{"v":2}');
  });

  it("shows an app only its own folder: another client of the same user sees nothing", async () => {
    const email = "drive-two-apps@example.com";
    const { files } = await signIn(email);
    const mine = await createConfig(files, "mine.json", "{}");

    const other = await control(google, "POST", "/emulator/clients", { type: "web" });
    const signedIn = await control(google, "POST", "/emulator/sign-in", {
      clientId: other.body.clientId,
      email,
      scopes: [APPDATA],
    });
    const tokens = await postForm(`${google.url}/token`, {
      grant_type: "authorization_code",
      code: signedIn.body.serverAuthCode,
      client_id: other.body.clientId,
      client_secret: other.body.clientSecret,
      redirect_uri: "",
    });
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: tokens.body.access_token });
    const theirs = drive({ version: "v3", auth, rootUrl }).files;

    expect((await theirs.list({ spaces: "appDataFolder" })).data.files).toEqual([]);
    expect((await failure(theirs.get({ fileId: mine.id as string }))).status).toBe(404);
  });

  it("refreshes an expired access token by itself and retries", async () => {
    await control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 1 });
    const { accessToken, refreshToken } = await signIn("drive-refresh@example.com").finally(() =>
      control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 }),
    );
    await sleep(1100);
    const stale = (await control(google, "GET", "/emulator/stats")).body.grants.refresh_token ?? 0;
    // No expiry_date: the client learns of the expiry from the 401 and refreshes.
    const auth = oauthClient({ access_token: accessToken, refresh_token: refreshToken });
    const files = drive({ version: "v3", auth, rootUrl }).files;
    const folder = await files.get({ fileId: "appDataFolder", fields: "name" });
    expect(folder.data).toEqual({ name: "Application Data" });
    const refreshed = (await control(google, "GET", "/emulator/stats")).body.grants.refresh_token;
    expect(refreshed).toBe(stale + 1);
  });
});

describe("Drive errors, with Google's status and body", () => {
  const invalidCredentials = {
    error: {
      code: 401,
      message:
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
      errors: [
        {
          message: "Invalid Credentials",
          domain: "global",
          reason: "authError",
          location: "Authorization",
          locationType: "header",
        },
      ],
      status: "UNAUTHENTICATED",
    },
  };

  /** A client that holds an access token and nothing to refresh it with. */
  function filesWithToken(accessToken: string) {
    return drive({ version: "v3", auth: oauthClient({ access_token: accessToken }), rootUrl })
      .files;
  }

  it("401 authError without an access token", async () => {
    const anonymous = drive({ version: "v3", rootUrl }).files;
    expect(await failure(anonymous.get({ fileId: "appDataFolder" }))).toEqual({
      status: 401,
      body: invalidCredentials,
    });
  });

  it("401 authError with an expired access token", async () => {
    await control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 1 });
    const { accessToken } = await signIn("drive-expired@example.com").finally(() =>
      control(google, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 3599 }),
    );
    await sleep(1100);
    expect(await failure(filesWithToken(accessToken).list({ spaces: "appDataFolder" }))).toEqual({
      status: 401,
      body: invalidCredentials,
    });
  });

  it("401 authError once the user revoked the app", async () => {
    const { sub, accessToken, files } = await signIn("drive-revoked@example.com");
    await createConfig(files, "before.json", "{}");
    expect((await control(google, "POST", `/emulator/users/${sub}/revoke`, {})).body).toEqual({
      revoked: 1,
    });
    expect(await failure(filesWithToken(accessToken).get({ fileId: "appfolder" }))).toEqual({
      status: 401,
      body: invalidCredentials,
    });
  });

  it("403 insufficientPermissions without a Drive scope", async () => {
    const { files } = await signIn("drive-no-scope@example.com", []);
    expect(await failure(files.get({ fileId: "appDataFolder" }))).toEqual({
      status: 403,
      body: {
        error: {
          code: 403,
          message: "Request had insufficient authentication scopes.",
          errors: [
            {
              message: "Insufficient Permission",
              domain: "global",
              reason: "insufficientPermissions",
            },
          ],
          status: "PERMISSION_DENIED",
        },
      },
    });
  });

  it("404 notFound for an unknown file id", async () => {
    const { files } = await signIn("drive-not-found@example.com");
    const id = "1NoSuchFileXXXXXXXXXXXXXXXXXXXXXX";
    expect(await failure(files.get({ fileId: id }))).toEqual({
      status: 404,
      body: {
        error: {
          code: 404,
          message: `File not found: ${id}.`,
          errors: [
            {
              message: `File not found: ${id}.`,
              domain: "global",
              reason: "notFound",
              location: "fileId",
              locationType: "parameter",
            },
          ],
        },
      },
    });
    expect((await failure(files.delete({ fileId: id }))).status).toBe(404);
  });

  it("403 when listing without spaces=appDataFolder holding only drive.appdata", async () => {
    const { files } = await signIn("drive-spaces@example.com");
    const message = "The granted scopes do not give access to all of the requested spaces.";
    expect(await failure(files.list({ q: "'appDataFolder' in parents" }))).toEqual({
      status: 403,
      body: {
        error: {
          code: 403,
          message,
          errors: [{ message, domain: "global", reason: "insufficientScopes" }],
        },
      },
    });
  });

  it("400 badRequest for a malformed multipart upload", async () => {
    const { accessToken } = await signIn("drive-bad-multipart@example.com");
    const response = await fetch(`${google.url}/upload/drive/v3/files?uploadType=multipart`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${accessToken}`,
        "content-type": "multipart/related; boundary=xyz",
      },
      body: '--xyz\r\ncontent-type: application/json\r\n\r\n{"name":"x"}\r\n--xyz--',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 400,
        message: "Malformed multipart body.",
        errors: [{ message: "Malformed multipart body.", domain: "global", reason: "badRequest" }],
      },
    });
  });
});

describe("discovery documents", () => {
  async function discovery(url: string) {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    return response.json();
  }

  it("point rootUrl at the emulator as the request reached it", async () => {
    const viaLocalhost = google.url.replace("127.0.0.1", "localhost");
    const drive = await discovery(`${viaLocalhost}/discovery/v1/apis/drive/v3/rest`);
    expect(drive).toMatchObject({
      id: "drive:v3",
      rootUrl: `${viaLocalhost}/`,
      servicePath: "drive/v3/",
      baseUrl: `${viaLocalhost}/drive/v3/`,
      batchPath: "batch/drive/v3",
    });
    expect(drive.resources.files.methods.create.mediaUpload.protocols.simple).toEqual({
      multipart: true,
      path: "/upload/drive/v3/files",
    });
    expect(drive.auth.oauth2.scopes).toHaveProperty([APPDATA]);
    const perHost = await discovery(`${google.url}/$discovery/rest?version=v3`);
    expect(perHost.rootUrl).toBe(`${google.url}/`);
    const photos = await discovery(`${google.url}/discovery/v1/apis/photoslibrary/v1/rest`);
    expect(photos).toMatchObject({ id: "photoslibrary:v1", servicePath: "", batchPath: "batch" });
  });

  it("list only methods the emulator serves", async () => {
    for (const api of ["drive/v3", "photoslibrary/v1"]) {
      const document = await discovery(`${google.url}/discovery/v1/apis/${api}/rest`);
      const methods = Object.values<any>(document.resources).flatMap((resource) =>
        Object.values<any>(resource.methods),
      );
      expect(methods.length).toBeGreaterThan(3);
      for (const method of methods) {
        const path = method.path.replace(/\{\+?(\w+)\}/g, "some-id");
        const response = await fetch(`${document.rootUrl}${document.servicePath}${path}`, {
          method: method.httpMethod,
        });
        // Served and guarded: Google's 401, never the emulator's 404 for unknown routes.
        expect([method.id, response.status]).toEqual([method.id, 401]);
        for (const ref of [method.request?.$ref, method.response?.$ref].filter(Boolean)) {
          expect(document.schemas).toHaveProperty([ref]);
        }
      }
    }
  });

  it("404 for an API the emulator does not serve", async () => {
    const response = await fetch(`${google.url}/discovery/v1/apis/gmail/v1/rest`);
    expect(response.status).toBe(404);
  });
});
