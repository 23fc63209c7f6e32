import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { type Emulator, writeClientSecretFile } from "../src/index.js";
import { exchangeCode, sdkSignIn, withEmulator } from "./helpers.js";

/*
 * Google's own upload code, unchanged but for URLs: Java's google-api-client (gzip-encoded
 * bodies, MediaHttpUploader's resumable chunks) and Python's google-api-python-client
 * (MediaIoBaseUpload with resumable=True and next_chunk()).
 */

const run = promisify(execFile);
const HERE = fileURLToPath(new URL(".", import.meta.url));
const APPDATA = "https://www.googleapis.com/auth/drive.appdata";
const JAVA_PACKAGES =
  "default-jdk-headless libgoogle-api-client-java libgoogle-oauth-client-java libgoogle-http-client-java";
const PYTHON_PACKAGES = "python3-googleapi python3-oauth2client";
const JARS = [
  "google-api-client",
  "google-oauth-client",
  "google-http-client",
  "google-http-client-gson",
  "gson",
  "guava",
  "opencensus-api",
  "opencensus-contrib-http-util",
  "grpc-context",
].map((name) => `/usr/share/java/${name}.jar`);

/** The child's environment without proxies, so loopback requests stay on loopback. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  }
  return { ...env, NO_PROXY: "*", PYTHONDONTWRITEBYTECODE: "1" };
}

const works = (command: string, args: string[]) =>
  spawnSync(command, args, { stdio: "ignore", env: offlineEnv() }).status === 0;
const javaFound = () => works("javac", ["-version"]) && JARS.every((jar) => existsSync(jar));
// The system Python: a pyenv or venv python3 on PATH does not see Debian's packages.
const pythonFound = () =>
  works("/usr/bin/python3", ["-c", "import googleapiclient.http, oauth2client, httplib2"]);

/** Fails in CI, where the packages are installed; skips elsewhere, naming what to install. */
function requireToolchain(ctx: TestContext, found: boolean, packages: string): void {
  if (found) return;
  const message = `missing toolchain: apt-get install ${packages}`;
  if (process.env.CI) throw new Error(message);
  ctx.skip(message);
}

let google: Emulator;
let dir: string;

beforeAll(async () => {
  google = await withEmulator();
  dir = await mkdtemp(join(tmpdir(), "steward-upload-clients-"));
});
afterAll(async () => {
  await google.close();
  await rm(dir, { recursive: true, force: true });
});

async function download(accessToken: string, id: string): Promise<Buffer> {
  const response = await fetch(`${google.url}/drive/v3/files/${id}?alt=media`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return Buffer.from(await response.arrayBuffer());
}

describe("Java: google-api-client's gzip bodies and MediaHttpUploader", () => {
  const available = javaFound();
  let classes: string;
  beforeAll(async () => {
    if (!available) return;
    classes = join(dir, "java");
    const classpath = JARS.join(":");
    await run("javac", ["-cp", classpath, "-d", classes, join(HERE, "java", "DriveUploads.java")], {
      timeout: 120_000,
    });
  }, 180_000);

  it("creates from a gzip-encoded body and uploads resumably in 256 KiB chunks, known and unknown length", async (ctx) => {
    requireToolchain(ctx, available, JAVA_PACKAGES);
    const { serverAuthCode } = await sdkSignIn(google, {
      email: "java-uploads@example.com",
      scopes: [APPDATA],
    });
    const token = (await exchangeCode(google, serverAuthCode)).body.access_token;
    const { stdout } = await run(
      "java",
      ["-cp", `${classes}:${JARS.join(":")}`, "DriveUploads", google.url, token],
      { env: offlineEnv(), timeout: 60_000 },
    );
    const result = JSON.parse(stdout);
    expect(result.gzipCreated).toEqual({
      id: expect.any(String),
      name: "gzipped.json",
      parents: [expect.stringMatching(/^0A/)],
    });
    for (const [key, name] of [
      ["known", "known.bin"],
      ["unknown", "unknown.bin"],
    ] as const) {
      expect(result[key]).toMatchObject({
        status: 200,
        file: { id: expect.any(String), name, size: String(700 * 1024) },
        sameBytes: true,
      });
      // 700 KiB in 256 KiB chunks: the uploader reported progress between chunks.
      expect(result[key].chunksInProgress).toBeGreaterThanOrEqual(2);
    }
  }, 120_000);
});

describe("Python: google-api-python-client's resumable MediaIoBaseUpload", () => {
  const available = pythonFound();

  it("uploads to appDataFolder with next_chunk() in 256 KiB chunks and reads the bytes back", async (ctx) => {
    requireToolchain(ctx, available, PYTHON_PACKAGES);
    const secretFile = join(dir, "client_secret.json");
    await writeClientSecretFile(secretFile, google.url, google.defaultClient);
    const { serverAuthCode } = await sdkSignIn(google, {
      email: "python-uploads@example.com",
      scopes: [APPDATA],
    });
    const { stdout } = await run(
      "/usr/bin/python3",
      [join(HERE, "python", "resumable_upload.py"), google.url, secretFile, serverAuthCode],
      { env: offlineEnv(), timeout: 60_000 },
    );
    const result = JSON.parse(stdout);
    expect(result.created).toEqual({
      id: expect.any(String),
      name: "resumable.bin",
      size: String(result.length),
    });
    // 700 KiB in 256 KiB chunks: two 308s, then the file.
    expect(result.progress).toEqual([256 * 1024, 512 * 1024]);
    expect(result.sameBytes).toBe(true);
    const bytes = await download(result.accessToken, result.created.id);
    expect(bytes.length).toBe(result.length);
  }, 120_000);
});
