import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { exchangeCode, sdkSignIn, withEmulator } from "./helpers.js";

const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const KIB = 1024;

let google: Emulator;
let token: string;

beforeAll(async () => {
  google = await withEmulator();
  const { serverAuthCode } = await sdkSignIn(google, {
    email: "transport@example.com",
    scopes: [APPDATA],
  });
  token = (await exchangeCode(google, serverAuthCode)).body.access_token;
});
afterAll(() => google.close());

const auth = () => ({ authorization: `Bearer ${token}` });

async function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const response = await fetch(`${google.url}${path}`, {
    ...init,
    headers: { ...auth(), ...init.headers },
    redirect: "manual",
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body };
}

async function download(id: string): Promise<Buffer> {
  const response = await fetch(`${google.url}/drive/v3/files/${id}?alt=media`, {
    headers: auth(),
  });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** Opens a resumable create in appDataFolder; returns the session URI (path and query). */
async function startUpload(length?: number, name = "big.bin"): Promise<string> {
  const { status, headers, body } = await call(
    "/upload/drive/v3/files?uploadType=resumable&fields=id,name,size",
    {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=UTF-8",
        "x-upload-content-type": "application/octet-stream",
        ...(length === undefined ? {} : { "x-upload-content-length": String(length) }),
      },
      body: JSON.stringify({ name, parents: ["appDataFolder"] }),
    },
  );
  expect({ status, body }).toEqual({ status: 200, body: "" });
  const location = new URL(headers.get("location") as string);
  expect(location.origin).toBe(google.url);
  expect(location.searchParams.get("uploadType")).toBe("resumable");
  expect(location.searchParams.get("upload_id")).toMatch(/^[\w-]{40,}$/);
  return location.pathname + location.search;
}

function put(session: string, bytes: Buffer, contentRange?: string) {
  return call(session, {
    method: "PUT",
    headers: contentRange === undefined ? {} : { "content-range": contentRange },
    body: new Uint8Array(bytes),
  });
}

describe("gzip-encoded request bodies", () => {
  it("reads a gzip-encoded JSON create, as Google's Java client sends it", async () => {
    const { status, body } = await call("/drive/v3/files?fields=name,parents", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: new Uint8Array(
        gzipSync(JSON.stringify({ name: "gz.json", parents: ["appDataFolder"] })),
      ),
    });
    expect(status).toBe(200);
    expect(body.name).toBe("gz.json");
  });

  it("reads a gzip-encoded multipart upload", async () => {
    const multipart =
      '--b\r\ncontent-type: application/json\r\n\r\n{"name":"m.txt","parents":["appDataFolder"]}\r\n' +
      "--b\r\ncontent-type: text/plain\r\n\r\nhello gzip\r\n--b--";
    const { status, body } = await call("/upload/drive/v3/files?uploadType=multipart", {
      method: "POST",
      headers: { "content-type": "multipart/related; boundary=b", "content-encoding": "gzip" },
      body: new Uint8Array(gzipSync(multipart)),
    });
    expect(status).toBe(200);
    expect((await download(body.id)).toString()).toBe("hello gzip");
  });

  it("answers 400 in Google's shape to a corrupt gzip stream, and creates nothing", async () => {
    const valid = gzipSync(JSON.stringify({ name: "corrupt.json", parents: ["appDataFolder"] }));
    const corrupt = Buffer.concat([valid.subarray(0, 12), Buffer.from("not deflate at all")]);
    const { status, body } = await call("/drive/v3/files", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: new Uint8Array(corrupt),
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: 400,
      message: "The gzip-encoded request body is not valid gzip.",
    });
    const listed = await call("/drive/v3/files?spaces=appDataFolder&q=name%3D'corrupt.json'");
    expect(listed.body.files).toEqual([]);
  });

  it("refuses a content coding other than gzip", async () => {
    const { status, body } = await call("/drive/v3/files", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "br" },
      body: "{}",
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 400, message: "Unsupported Content-Encoding: br." });
  });

  it("ignores Content-Encoding on a request without a body", async () => {
    const { status } = await call("/drive/v3/files?spaces=appDataFolder", {
      headers: { "content-encoding": "gzip" },
    });
    expect(status).toBe(200);
    const empty = await call("/drive/v3/files?fields=name", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: "",
    });
    expect(empty.status).toBe(403); // no parents: My Drive, out of reach of drive.appdata
    // The emulator is still up.
    expect((await call("/drive/v3/files?spaces=appDataFolder")).status).toBe(200);
  });

  it("answers 400 to a request that names gzip but is not, without reading a route's body", async () => {
    const { status } = await call("/drive/v3/files/appfolder", {
      method: "DELETE",
      headers: { "content-encoding": "gzip", "content-type": "application/json" },
      body: "not gzip",
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect((await call("/drive/v3/files?spaces=appDataFolder")).status).toBe(200);
  });

  it("stops a gzip bomb at the body limit once decoded", async () => {
    const bomb = gzipSync(Buffer.alloc(65 * KIB * KIB));
    expect(bomb.length).toBeLessThan(KIB * KIB);
    const { status, body } = await call("/upload/drive/v3/files?uploadType=media", {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "content-encoding": "gzip" },
      body: new Uint8Array(bomb),
    });
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: 413, message: "Request body is too large." });
  });

  it("decodes gzip on the OAuth endpoints too", async () => {
    const { serverAuthCode } = await sdkSignIn(google, { email: "gzip-token@example.com" });
    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code: serverAuthCode,
      client_id: google.defaultClient.clientId,
      client_secret: google.defaultClient.clientSecret as string,
      redirect_uri: "",
    });
    const { status, body } = await call("/token", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-encoding": "gzip",
      },
      body: new Uint8Array(gzipSync(form.toString())),
    });
    expect(status).toBe(200);
    expect(body.access_token).toEqual(expect.any(String));
  });
});

describe("resumable uploads (uploadType=resumable)", () => {
  it("takes chunks, answering 308 with the Range received, then the file", async () => {
    const content = randomBytes(600 * KIB);
    const session = await startUpload(content.length);

    const status = await put(session, Buffer.alloc(0), `bytes */${content.length}`);
    expect(status.status).toBe(308);
    expect(status.headers.get("range")).toBeNull();

    const first = await put(session, content.subarray(0, 256 * KIB), `bytes 0-262143/614400`);
    expect(first.status).toBe(308);
    expect(first.headers.get("range")).toBe("bytes=0-262143");

    const query = await put(session, Buffer.alloc(0), "bytes */614400");
    expect(query.status).toBe(308);
    expect(query.headers.get("range")).toBe("bytes=0-262143");

    const second = await put(
      session,
      content.subarray(256 * KIB, 512 * KIB),
      "bytes 262144-524287/*",
    );
    expect(second.status).toBe(308);
    expect(second.headers.get("range")).toBe("bytes=0-524287");

    const last = await put(session, content.subarray(512 * KIB), "bytes 524288-614399/614400");
    expect(last.status).toBe(200);
    expect(last.body).toEqual({ id: expect.any(String), name: "big.bin", size: "614400" });
    expect((await download(last.body.id)).equals(content)).toBe(true);

    // A status query after completion answers the file again, as Google's.
    const again = await put(session, Buffer.alloc(0), "bytes */614400");
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: last.body });
  });

  it("completes an upload sent whole, without Content-Range", async () => {
    const content = randomBytes(1000);
    const session = await startUpload();
    const { status, body } = await put(session, content);
    expect(status).toBe(200);
    expect((await download(body.id)).equals(content)).toBe(true);
  });

  it("completes on a status query once the total is known and every byte is there", async () => {
    const content = randomBytes(256 * KIB);
    const session = await startUpload();
    const sent = await put(session, content, "bytes 0-262143/*");
    expect(sent.status).toBe(308);
    const done = await put(session, Buffer.alloc(0), "bytes */262144");
    expect(done.status).toBe(200);
    expect((await download(done.body.id)).equals(content)).toBe(true);
  });

  it("replaces a file's content with a resumable files.update", async () => {
    const session = await startUpload();
    const created = await put(session, Buffer.from("old"));
    const open = await call(`/upload/drive/v3/files/${created.body.id}?uploadType=resumable`, {
      method: "PATCH",
      headers: { "content-type": "application/json", "x-upload-content-length": "3" },
      body: JSON.stringify({ name: "renamed.bin" }),
    });
    expect(open.status).toBe(200);
    const location = new URL(open.headers.get("location") as string);
    expect(location.pathname).toBe(`/upload/drive/v3/files/${created.body.id}`);
    const updated = await put(
      location.pathname + location.search,
      Buffer.from("new"),
      "bytes 0-2/3",
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: created.body.id, name: "renamed.bin" });
    expect((await download(created.body.id)).toString()).toBe("new");
  });

  it("keeps the bytes received before a dropped connection and resumes from them", async () => {
    const content = randomBytes(1024 * KIB);
    const session = await startUpload(content.length, "dropped.bin");
    const sentBeforeDrop = 300 * KIB;

    const inFlight = httpRequest(`${google.url}${session}`, {
      method: "PUT",
      headers: {
        "content-length": String(content.length),
        "content-range": `bytes 0-${content.length - 1}/${content.length}`,
      },
    });
    inFlight.on("error", () => {});
    inFlight.write(content.subarray(0, sentBeforeDrop));
    // Wait until the emulator holds what was written, then drop the connection mid-body.
    let range: string | null = null;
    for (let i = 0; i < 200 && range !== `bytes=0-${sentBeforeDrop - 1}`; i++) {
      await sleep(25);
      range = (await put(session, Buffer.alloc(0), `bytes */${content.length}`)).headers.get(
        "range",
      );
    }
    expect(range).toBe(`bytes=0-${sentBeforeDrop - 1}`);
    inFlight.destroy();
    await sleep(50);

    const after = await put(session, Buffer.alloc(0), `bytes */${content.length}`);
    expect(after.status).toBe(308);
    expect(after.headers.get("range")).toBe(`bytes=0-${sentBeforeDrop - 1}`);
    const rest = await put(
      session,
      content.subarray(sentBeforeDrop),
      `bytes ${sentBeforeDrop}-${content.length - 1}/${content.length}`,
    );
    expect(rest.status).toBe(200);
    expect((await download(rest.body.id)).equals(content)).toBe(true);
  });

  it("skips bytes already received when a chunk overlaps them", async () => {
    const content = randomBytes(300 * KIB);
    const session = await startUpload(content.length);
    await put(session, content.subarray(0, 256 * KIB), `bytes 0-262143/${content.length}`);
    const again = await put(session, content, `bytes 0-${content.length - 1}/${content.length}`);
    expect(again.status).toBe(200);
    expect((await download(again.body.id)).equals(content)).toBe(true);
  });

  it("refuses misaligned chunks as Google does", async () => {
    const session = await startUpload(600 * KIB);
    const gap = await put(session, randomBytes(256 * KIB), "bytes 262144-524287/614400");
    expect(gap.status).toBe(400);
    expect(gap.body.error.message).toBe(
      "Invalid request. According to the Content-Range header, the upload offset is 262144 byte(s), which exceeds already uploaded size of 0 byte(s).",
    );
    const small = await put(session, randomBytes(1000), "bytes 0-999/614400");
    expect(small.status).toBe(400);
    expect(small.body.error.message).toMatch(/^Invalid request\. The number of bytes uploaded/);
    const total = await put(session, randomBytes(10), "bytes 0-9/10");
    expect(total.status).toBe(400);
    const longer = await put(session, randomBytes(300 * KIB), "bytes 0-262143/614400");
    expect(longer.status).toBe(400);
    const garbled = await put(session, randomBytes(10), "bytes=0-9/10");
    expect(garbled.status).toBe(400);
    expect(garbled.body.error.message).toBe("Failed to parse Content-Range header.");
    // Nothing was kept from the refused chunks.
    const query = await put(session, Buffer.alloc(0), "bytes */614400");
    expect(query.status).toBe(308);
    expect(query.headers.get("range")).toBeNull();
  });

  it("answers 404 for an unknown session", async () => {
    const { status, body } = await put(
      "/upload/drive/v3/files?uploadType=resumable&upload_id=AEnB2Unknown",
      Buffer.from("x"),
    );
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 404, errors: [{ reason: "notFound" }] });
  });

  it("checks the metadata before any byte is sent", async () => {
    const { status, body } = await call("/upload/drive/v3/files?uploadType=resumable", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x", parents: ["nope"] }),
    });
    expect(status).toBe(404);
    expect(body.error.message).toBe("File not found: nope.");
  });
});

describe("Photos resumable uploads (X-Goog-Upload-Protocol: resumable)", () => {
  const PHOTOS = "https://www.googleapis.com/auth/photoslibrary";

  async function photosToken(email: string): Promise<string> {
    const { serverAuthCode } = await sdkSignIn(google, {
      email,
      scopes: [`${PHOTOS}.appendonly`, `${PHOTOS}.readonly.appcreateddata`],
    });
    return (await exchangeCode(google, serverAuthCode)).body.access_token;
  }

  /** A 2x3 GIF header followed by padding, long enough for two chunks. */
  function gif(length: number): Buffer {
    const header = Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 2, 0, 3, 0]);
    return Buffer.concat([header, randomBytes(length - header.length)]);
  }

  async function post(url: string, headers: Record<string, string>, body?: Buffer) {
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: body === undefined ? undefined : new Uint8Array(body),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  it("starts, uploads a chunk, answers a query, then finalizes into an upload token", async () => {
    const photosAccess = await photosToken("photos-resumable@example.com");
    const bytes = gif(300 * KIB);
    const start = await post(`${google.url}/v1/uploads`, {
      authorization: `Bearer ${photosAccess}`,
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      "x-goog-upload-content-type": "image/gif",
      "x-goog-upload-raw-size": String(bytes.length),
    });
    expect(start.status).toBe(200);
    expect(start.headers.get("x-goog-upload-chunk-granularity")).toBe("262144");
    const url = start.headers.get("x-goog-upload-url") as string;
    expect(new URL(url).searchParams.get("upload_id")).toMatch(/^[\w-]{40,}$/);

    const chunk = await post(
      url,
      { "x-goog-upload-command": "upload", "x-goog-upload-offset": "0" },
      bytes.subarray(0, 256 * KIB),
    );
    expect(chunk.status).toBe(200);
    const query = await post(url, { "x-goog-upload-command": "query" });
    expect(query.headers.get("x-goog-upload-status")).toBe("active");
    expect(query.headers.get("x-goog-upload-size-received")).toBe(String(256 * KIB));

    const misaligned = await post(
      url,
      { "x-goog-upload-command": "upload", "x-goog-upload-offset": String(256 * KIB) },
      bytes.subarray(256 * KIB, 256 * KIB + 1000),
    );
    expect(misaligned.status).toBe(400);

    const last = await post(
      url,
      { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": String(256 * KIB) },
      bytes.subarray(256 * KIB),
    );
    expect(last.status).toBe(200);
    expect(last.headers.get("x-goog-upload-status")).toBe("final");
    expect(last.text).toMatch(/^CAIS/);

    const created = await fetch(`${google.url}/v1/mediaItems:batchCreate`, {
      method: "POST",
      headers: { authorization: `Bearer ${photosAccess}`, "content-type": "application/json" },
      body: JSON.stringify({
        newMediaItems: [{ simpleMediaItem: { uploadToken: last.text, fileName: "r.gif" } }],
      }),
    }).then((response) => response.json());
    const item = created.newMediaItemResults[0].mediaItem;
    expect(item).toMatchObject({ mimeType: "image/gif", filename: "r.gif" });
    const listed = await fetch(`${google.url}/v1/mediaItems/${item.id}`, {
      headers: { authorization: `Bearer ${photosAccess}` },
    }).then((response) => response.json());
    const served = await fetch(`${listed.baseUrl}=d`);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);

    // The session is spent once finalized.
    expect((await post(url, { "x-goog-upload-command": "query" })).status).toBe(404);
  });
});
