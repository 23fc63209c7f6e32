import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index.js";
import { control, exchangeCode, postForm, sdkSignIn, withEmulator } from "./helpers.js";

const SCOPE = "https://www.googleapis.com/auth/photoslibrary";
const APPEND = `${SCOPE}.appendonly`;
const READ = `${SCOPE}.readonly.appcreateddata`;

let google: Emulator;

beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google.close());

/** A user signs in on the app, and the backend exchanges the code for an access token. */
async function accessTokenFor(email: string, scopes: string[]): Promise<string> {
  const { serverAuthCode } = await sdkSignIn(google, { email, scopes });
  const { status, body } = await exchangeCode(google, serverAuthCode);
  expect(status).toBe(200);
  return body.access_token;
}

/** Calls the Photos Library API as Google's REST clients do. */
async function photos(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${google.url}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** Step 1 of Google's upload: raw bytes in, an upload token (plain text) out. */
async function upload(token: string, bytes: Buffer, mimeType = "image/png"): Promise<string> {
  const response = await fetch(`${google.url}/v1/uploads`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/octet-stream",
      "x-goog-upload-content-type": mimeType,
      "x-goog-upload-protocol": "raw",
    },
    body: new Uint8Array(bytes),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  return response.text();
}

/** A real (tiny) PNG, width x height, one colour. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, "latin1"), data, Buffer.alloc(4)]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height, 0x7f);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const insufficientScopes = {
  status: 403,
  body: {
    error: {
      code: 403,
      message: "Request had insufficient authentication scopes.",
      status: "PERMISSION_DENIED",
    },
  },
};

describe("Photos Library: app-created albums and media", () => {
  it("creates an album, lists and gets it", async () => {
    const token = await accessTokenFor("photos-albums@example.com", [APPEND, READ]);
    const created = await photos(token, "POST", "/v1/albums", { album: { title: "Trip" } });
    expect(created).toEqual({
      status: 200,
      body: {
        id: expect.any(String),
        title: "Trip",
        productUrl: `https://photos.google.com/lr/album/${created.body.id}`,
        isWriteable: true,
      },
    });
    const listed = await photos(token, "GET", "/v1/albums");
    expect(listed.body).toEqual({ albums: [created.body] });
    const got = await photos(token, "GET", `/v1/albums/${created.body.id}`);
    expect(got.body).toEqual(created.body);
  });

  it("pages albums with pageSize and nextPageToken", async () => {
    const token = await accessTokenFor("photos-album-pages@example.com", [APPEND, READ]);
    for (const title of ["one", "two", "three"]) {
      await photos(token, "POST", "/v1/albums", { album: { title } });
    }
    const first = await photos(token, "GET", "/v1/albums?pageSize=2");
    expect(first.body.albums.map((album: any) => album.title)).toEqual(["one", "two"]);
    const second = await photos(
      token,
      "GET",
      `/v1/albums?pageSize=2&pageToken=${encodeURIComponent(first.body.nextPageToken)}`,
    );
    expect(second.body.albums.map((album: any) => album.title)).toEqual(["three"]);
    expect(second.body.nextPageToken).toBeUndefined();
  });

  it("uploads bytes, creates a media item in the album, finds it, and serves the same bytes", async () => {
    const token = await accessTokenFor("photos-upload@example.com", [APPEND, READ]);
    const album = (await photos(token, "POST", "/v1/albums", { album: { title: "Edits" } })).body;
    const bytes = png(3, 2);
    const uploadToken = await upload(token, bytes);

    const created = await photos(token, "POST", "/v1/mediaItems:batchCreate", {
      albumId: album.id,
      newMediaItems: [
        { description: "enhanced", simpleMediaItem: { uploadToken, fileName: "photo.png" } },
      ],
    });
    expect(created.status).toBe(200);
    const [result] = created.body.newMediaItemResults;
    expect(result).toEqual({
      uploadToken,
      status: { message: "Success" },
      mediaItem: {
        id: expect.any(String),
        description: "enhanced",
        productUrl: expect.stringMatching(/^https:\/\/photos\.google\.com\/lr\/photo\//),
        mimeType: "image/png",
        mediaMetadata: {
          creationTime: expect.any(String),
          width: "3",
          height: "2",
          photo: {},
        },
        filename: "photo.png",
      },
    });

    const found = await photos(token, "POST", "/v1/mediaItems:search", { albumId: album.id });
    expect(found.body.mediaItems).toHaveLength(1);
    const [item] = found.body.mediaItems;
    expect(item).toMatchObject({ ...result.mediaItem, baseUrl: expect.any(String) });
    expect((await photos(token, "GET", `/v1/mediaItems/${item.id}`)).body).toEqual(item);
    expect((await photos(token, "GET", `/v1/albums/${album.id}`)).body).toMatchObject({
      mediaItemsCount: "1",
      coverPhotoMediaItemId: item.id,
    });

    for (const suffix of ["", "=d", "=w640-h480"]) {
      const response = await fetch(`${item.baseUrl}${suffix}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    }
    const forged = await fetch(`${item.baseUrl.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(404);
  });

  it("refuses more than 50 new media items in one batchCreate", async () => {
    const token = await accessTokenFor("photos-limit@example.com", [APPEND, READ]);
    const newMediaItems = Array.from({ length: 51 }, (_, index) => ({
      simpleMediaItem: { uploadToken: `CAIS${index}`, fileName: `${index}.png` },
    }));
    expect(await photos(token, "POST", "/v1/mediaItems:batchCreate", { newMediaItems })).toEqual({
      status: 400,
      body: {
        error: {
          code: 400,
          message: "Request must not contain more than 50 new media items.",
          status: "INVALID_ARGUMENT",
        },
      },
    });
  });

  it("fails an item whose upload token was already used, with a per-item status", async () => {
    const token = await accessTokenFor("photos-token-reuse@example.com", [APPEND, READ]);
    const uploadToken = await upload(token, png(1, 1));
    const item = { simpleMediaItem: { uploadToken, fileName: "a.png" } };
    const first = await photos(token, "POST", "/v1/mediaItems:batchCreate", {
      newMediaItems: [item],
    });
    expect(first.status).toBe(200);
    const again = await photos(token, "POST", "/v1/mediaItems:batchCreate", {
      newMediaItems: [item],
    });
    expect(again.status).toBe(207);
    expect(again.body.newMediaItemResults).toEqual([
      {
        uploadToken,
        status: {
          code: 3,
          message: "Failed: There was an error while trying to create this media item.",
        },
      },
    ]);
  });
});

describe("Photos Library: base URLs", () => {
  it("stop working 60 minutes after they were handed out", async () => {
    let nowMs = Date.now();
    const clocked = await startEmulator({ port: 0, now: () => nowMs });
    try {
      const { serverAuthCode } = await sdkSignIn(clocked, {
        email: "photos-expiry@example.com",
        scopes: [APPEND, READ],
      });
      const token = (await exchangeCode(clocked, serverAuthCode)).body.access_token;
      const headers = { authorization: `Bearer ${token}` };
      const uploadToken = await fetch(`${clocked.url}/v1/uploads`, {
        method: "POST",
        headers: { ...headers, "x-goog-upload-protocol": "raw" },
        body: new Uint8Array(png(1, 1)),
      }).then((response) => response.text());
      await fetch(`${clocked.url}/v1/mediaItems:batchCreate`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ newMediaItems: [{ simpleMediaItem: { uploadToken } }] }),
      });
      const listed = await fetch(`${clocked.url}/v1/mediaItems`, { headers }).then((r) => r.json());
      const { baseUrl } = listed.mediaItems[0];

      nowMs += 59 * 60 * 1000;
      expect((await fetch(`${baseUrl}=d`)).status).toBe(200);
      nowMs += 2 * 60 * 1000;
      expect((await fetch(`${baseUrl}=d`)).status).toBe(403);
    } finally {
      await clocked.close();
    }
  });
});

describe("Photos Library: scopes and app boundaries", () => {
  it("401 without an access token", async () => {
    const answer = await photos(undefined, "GET", "/v1/albums");
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED" });
  });

  it("403 PERMISSION_DENIED reading with appendonly, writing with a read scope", async () => {
    const appendOnly = await accessTokenFor("photos-append-only@example.com", [APPEND]);
    expect(await photos(appendOnly, "GET", "/v1/albums")).toEqual(insufficientScopes);
    expect(await photos(appendOnly, "POST", "/v1/mediaItems:search", {})).toEqual(
      insufficientScopes,
    );

    const readOnly = await accessTokenFor("photos-read-only@example.com", [READ]);
    expect(await photos(readOnly, "POST", "/v1/albums", { album: { title: "x" } })).toEqual(
      insufficientScopes,
    );
    const uploadAttempt = await fetch(`${google.url}/v1/uploads`, {
      method: "POST",
      headers: { authorization: `Bearer ${readOnly}`, "x-goog-upload-protocol": "raw" },
      body: new Uint8Array(png(1, 1)),
    });
    expect({ status: uploadAttempt.status, body: await uploadAttempt.json() }).toEqual(
      insufficientScopes,
    );
  });

  it("hides one app's albums, items and upload tokens from another app of the same user", async () => {
    const email = "photos-two-apps@example.com";
    const mine = await accessTokenFor(email, [APPEND, READ]);
    const album = (await photos(mine, "POST", "/v1/albums", { album: { title: "Mine" } })).body;
    const uploadToken = await upload(mine, png(2, 2));
    const created = await photos(mine, "POST", "/v1/mediaItems:batchCreate", {
      albumId: album.id,
      newMediaItems: [{ simpleMediaItem: { uploadToken, fileName: "mine.png" } }],
    });
    const itemId = created.body.newMediaItemResults[0].mediaItem.id;
    const strayToken = await upload(mine, png(1, 1));

    const other = (await control(google, "POST", "/emulator/clients", { type: "web" })).body;
    const signedIn = await control(google, "POST", "/emulator/sign-in", {
      clientId: other.clientId,
      email,
      scopes: [APPEND, READ],
    });
    const tokens = await postForm(`${google.url}/token`, {
      grant_type: "authorization_code",
      code: signedIn.body.serverAuthCode,
      client_id: other.clientId,
      client_secret: other.clientSecret,
      redirect_uri: "",
    });
    const theirs = tokens.body.access_token;

    const notFound = {
      status: 404,
      body: {
        error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" },
      },
    };
    expect(await photos(theirs, "GET", "/v1/albums")).toEqual({ status: 200, body: {} });
    expect(await photos(theirs, "GET", "/v1/mediaItems")).toEqual({ status: 200, body: {} });
    expect(await photos(theirs, "GET", `/v1/albums/${album.id}`)).toEqual(notFound);
    expect(await photos(theirs, "GET", `/v1/mediaItems/${itemId}`)).toEqual(notFound);
    expect(await photos(theirs, "POST", "/v1/mediaItems:search", { albumId: album.id })).toEqual(
      notFound,
    );
    const intoMine = await photos(theirs, "POST", "/v1/mediaItems:batchCreate", {
      albumId: album.id,
      newMediaItems: [{ simpleMediaItem: { uploadToken: strayToken, fileName: "x.png" } }],
    });
    expect(intoMine).toEqual({
      status: 403,
      body: {
        error: {
          code: 403,
          message: "No permission to add media items to this album.",
          status: "PERMISSION_DENIED",
        },
      },
    });
    const withMyToken = await photos(theirs, "POST", "/v1/mediaItems:batchCreate", {
      newMediaItems: [{ simpleMediaItem: { uploadToken: strayToken, fileName: "x.png" } }],
    });
    expect(withMyToken.status).toBe(207);
    expect(withMyToken.body.newMediaItemResults[0].status.code).toBe(3);
  });
});
