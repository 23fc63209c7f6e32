import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isEmulatorError } from "../src/errors.js";
import { type Emulator, startEmulator } from "../src/index.js";
import { control, exchangeCode, postForm, sdkSignIn } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const PHOTOS_APPEND = "https://www.googleapis.com/auth/photoslibrary.appendonly";
const PHOTOS_READ = "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata";

let dir: string;
const started: Emulator[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "steward-emulator-state-"));
});
afterEach(async () => {
  for (const emulator of started.splice(0)) await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(): Promise<Emulator> {
  const emulator = await startEmulator({ port: 0, dataDir: dir });
  started.push(emulator);
  return emulator;
}

async function stop(emulator: Emulator): Promise<void> {
  started.splice(started.indexOf(emulator), 1);
  await emulator.close();
}

async function api(
  google: Emulator,
  token: string,
  method: string,
  path: string,
  body?: BodyInit,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${google.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
  });
}

/** A Drive multipart upload into the application data folder; returns the file id. */
async function uploadToDrive(google: Emulator, token: string, content: Buffer): Promise<string> {
  const metadata = JSON.stringify({ name: "notes.bin", parents: ["appDataFolder"] });
  const body = Buffer.concat([
    Buffer.from(`--b\r\ncontent-type: application/json\r\n\r\n${metadata}\r\n--b\r\n`),
    Buffer.from("content-type: application/octet-stream\r\n\r\n"),
    content,
    Buffer.from("\r\n--b--"),
  ]);
  const response = await api(
    google,
    token,
    "POST",
    "/upload/drive/v3/files?uploadType=multipart",
    new Uint8Array(body),
    { "content-type": "multipart/related; boundary=b" },
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

/** Uploads bytes and makes a media item of them in a new album; returns the album id. */
async function addPhoto(google: Emulator, token: string, bytes: Buffer): Promise<string> {
  const json = { "content-type": "application/json" };
  const album = await api(
    google,
    token,
    "POST",
    "/v1/albums",
    JSON.stringify({ album: { title: "Trip" } }),
    json,
  );
  const albumId = ((await album.json()) as { id: string }).id;
  const uploaded = await api(google, token, "POST", "/v1/uploads", new Uint8Array(bytes), {
    "content-type": "application/octet-stream",
    "x-goog-upload-content-type": "image/png",
    "x-goog-upload-protocol": "raw",
  });
  const uploadToken = await uploaded.text();
  const created = await api(
    google,
    token,
    "POST",
    "/v1/mediaItems:batchCreate",
    JSON.stringify({
      albumId,
      newMediaItems: [{ simpleMediaItem: { uploadToken, fileName: "p.png" } }],
    }),
    json,
  );
  expect(created.status).toBe(200);
  return albumId;
}

describe("an emulator with a data dir", () => {
  it("keeps users, grants, refresh and access tokens, keys, settings, files and photos across a restart", async () => {
    const before = await start();
    expect(before.stateDir).toBe(dir);
    await control(before, "PUT", "/emulator/settings", { accessTokenTtlSeconds: 1234 });
    const extra = await control(before, "POST", "/emulator/clients", { type: "web" });
    const { serverAuthCode, sub } = await sdkSignIn(before, {
      email: "kept@example.com",
      scopes: [APPDATA, PHOTOS_APPEND, PHOTOS_READ],
    });
    const exchanged = await exchangeCode(before, serverAuthCode);
    expect(exchanged.status).toBe(200);
    const { access_token: accessToken, refresh_token: refreshToken } = exchanged.body;
    const idToken: string = exchanged.body.id_token;
    const content = Buffer.from("binary \u0000 content, kept beside the state file");
    const fileId = await uploadToDrive(before, accessToken, content);
    // Not a real PNG: the store keeps bytes, whatever they are.
    const photo = Buffer.alloc(300 * 1024, 7);
    const albumId = await addPhoto(before, accessToken, photo);
    const search = await api(
      before,
      accessToken,
      "POST",
      "/v1/mediaItems:search",
      JSON.stringify({ albumId }),
      { "content-type": "application/json" },
    );
    const [item] = ((await search.json()) as { mediaItems: Array<{ id: string; baseUrl: string }> })
      .mediaItems as Array<{ id: string; baseUrl: string }>;
    // After a rotation both keys are published, the new one signing: a restart keeps that.
    const rotated = (await control(before, "POST", "/emulator/keys/rotate")).body;
    const defaultClient = before.defaultClient;
    await stop(before);

    expect((await stat(join(dir, "state.json"))).mode & 0o077).toBe(0);
    const after = await start();
    // Same client id and secret: what the app's backend was configured with still works.
    expect(after.defaultClient.clientId).toBe(defaultClient.clientId);
    expect(after.defaultClient.clientSecret).toBe(defaultClient.clientSecret);
    expect(after.defaultClient.javascriptOrigins).toEqual([after.url]);
    expect((await control(after, "GET", "/emulator/clients")).body.clients).toContainEqual(
      extra.body,
    );
    expect((await control(after, "GET", "/emulator/settings")).body.accessTokenTtlSeconds).toBe(
      1234,
    );
    const users = (await control(after, "GET", "/emulator/users")).body.users;
    expect(users).toContainEqual(expect.objectContaining({ sub, email: "kept@example.com" }));
    const grants = (await control(after, "GET", `/emulator/users/${sub}/grants`)).body.grants;
    expect(grants).toEqual([
      expect.objectContaining({
        clientId: defaultClient.clientId,
        revoked: false,
        refreshTokens: [expect.objectContaining({ token: refreshToken, revoked: false })],
      }),
    ]);

    // The refresh after the restart works, and so does the access token from before it.
    const refreshed = await postForm(`${after.url}/token`, {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: defaultClient.clientId,
      client_secret: defaultClient.clientSecret as string,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.expires_in).toBe(1234);
    const media = await api(after, accessToken, "GET", `/drive/v3/files/${fileId}?alt=media`);
    expect(media.status).toBe(200);
    expect(Buffer.from(await media.arrayBuffer()).equals(content)).toBe(true);
    const photos = await api(
      after,
      refreshed.body.access_token,
      "GET",
      `/v1/mediaItems/${item?.id}`,
    );
    expect(photos.status).toBe(200);
    // The baseUrl handed out before the restart still serves the bytes (at the new port).
    const baseUrl = new URL(item?.baseUrl as string);
    const served = await fetch(`${after.url}${baseUrl.pathname}`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(photo)).toBe(true);

    // An ID token signed before the restart verifies against the keys published after it.
    const jwks = createLocalJWKSet(await (await fetch(`${after.url}/oauth2/v3/certs`)).json());
    const { payload } = await jwtVerify(idToken, jwks, {
      issuer: "https://accounts.google.com",
      audience: defaultClient.clientId,
      currentDate: new Date(),
    });
    expect(payload.sub).toBe(sub);
    const published = (await (await fetch(`${after.url}/oauth2/v3/certs`)).json()).keys;
    // The signing key, the one published to sign next, and the one that signed before.
    expect(published.map((key: { kid: string }) => key.kid)).toEqual([
      rotated.kid,
      rotated.nextKid,
      rotated.previousKid,
    ]);
    const signIn = await sdkSignIn(after, { email: "kept@example.com" });
    const header = JSON.parse(
      Buffer.from(signIn.idToken.split(".")[0] as string, "base64url").toString(),
    );
    expect(header.kid).toBe(rotated.kid);
  });

  it("saves after a change without waiting for close, and removes contents no longer used", async () => {
    const google = await start();
    const { serverAuthCode } = await sdkSignIn(google, {
      email: "deletes@example.com",
      scopes: [APPDATA],
    });
    const token = (await exchangeCode(google, serverAuthCode)).body.access_token;
    const fileId = await uploadToDrive(google, token, Buffer.from("soon gone"));
    await waitFor(async () => (await readdir(join(dir, "blobs")).catch(() => [])).length === 1);
    await waitFor(async () => (await readFile(join(dir, "state.json"), "utf8")).includes(fileId));
    expect((await api(google, token, "DELETE", `/drive/v3/files/${fileId}`)).status).toBe(204);
    await stop(google);
    expect(await readdir(join(dir, "blobs"))).toEqual([]);
    expect(await readFile(join(dir, "state.json"), "utf8")).not.toContain(fileId);
  });

  it("refuses to start on a damaged state file, naming it, and leaves the file as it was", async () => {
    const file = join(dir, "state.json");
    await writeFile(file, '{"format":"steward-emulator-state", "version": 1, "parts": {');
    const error = await startEmulator({ port: 0, dataDir: dir }).catch((caught) => caught);
    expect(isEmulatorError(error, "emulator_state_corrupt")).toBe(true);
    expect(error.message).toContain(file);
    expect(error.message).toContain("not valid JSON");
    expect(await readFile(file, "utf8")).toContain('"parts": {');
  });

  it("refuses to start when a content file beside the state is missing, naming it", async () => {
    const google = await start();
    const { serverAuthCode } = await sdkSignIn(google, {
      email: "blob@example.com",
      scopes: [APPDATA],
    });
    const token = (await exchangeCode(google, serverAuthCode)).body.access_token;
    await uploadToDrive(google, token, Buffer.from("content"));
    await stop(google);
    const [blob] = await readdir(join(dir, "blobs"));
    await rm(join(dir, "blobs", blob as string));
    const error = await startEmulator({ port: 0, dataDir: dir }).catch((caught) => caught);
    expect(isEmulatorError(error, "emulator_state_corrupt")).toBe(true);
    expect(error.message).toContain(join(dir, "state.json"));
    expect(error.message).toContain(join(dir, "blobs", blob as string));
  });

  it("keeps nothing on disk without a data dir", async () => {
    const google = await startEmulator({ port: 0 });
    started.push(google);
    expect(google.stateDir).toBeUndefined();
    await sdkSignIn(google, { email: "memory@example.com" });
    await stop(google);
    expect(await readdir(dir)).toEqual([]);
  });
});

/** Polls a condition the emulator reaches on its own (a debounced save). */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not reached");
}
