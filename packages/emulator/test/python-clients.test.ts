import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { type Emulator, writeClientSecretFile } from "../src/index.js";
import { sdkSignIn, withEmulator } from "./helpers.js";

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL("./python/", import.meta.url));
const MODULES = "import googleapiclient, oauth2client, httplib2";
const MISSING =
  "python3 with googleapiclient and oauth2client not found (apt-get install python3-googleapi python3-oauth2client)";

/**
 * A Python 3 that has Debian's python3-googleapi and python3-oauth2client: the system one comes
 * first, because a pyenv or venv `python3` on PATH does not see Debian's packages.
 */
function findPython(): string | undefined {
  const candidates = [process.env.STEWARD_PYTHON, "/usr/bin/python3", "python3"];
  return candidates.find(
    (python) => python && spawnSync(python, ["-c", MODULES], { stdio: "ignore" }).status === 0,
  );
}

/** The child's environment without proxies, so loopback requests stay on loopback. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  }
  return { ...env, NO_PROXY: "*", PYTHONDONTWRITEBYTECODE: "1" };
}

const python = findPython();

describe("Google's Python clients against the emulator", () => {
  let google: Emulator;
  let dir: string;

  beforeAll(async () => {
    google = await withEmulator();
    dir = await mkdtemp(join(tmpdir(), "steward-python-"));
  });
  afterAll(async () => {
    await google.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs a script with the emulator's URL, a client_secret.json and a fresh serverAuthCode. */
  async function runScript(ctx: TestContext, script: string, email: string, scopes: string[]) {
    if (python === undefined) {
      // CI installs the packages, so there a missing module is a failure, not a skip.
      if (process.env.CI) throw new Error(MISSING);
      ctx.skip(MISSING);
    }
    const secretFile = join(dir, "client_secret.json");
    await writeClientSecretFile(secretFile, google.url, google.defaultClient);
    const { serverAuthCode, sub } = await sdkSignIn(google, { email, scopes });
    const { stdout } = await run(
      python as string,
      [join(SCRIPTS, script), google.url, secretFile, serverAuthCode],
      { env: offlineEnv(), timeout: 60_000 },
    );
    return { sub, result: JSON.parse(stdout) };
  }

  async function codeExchanges(): Promise<number> {
    const stats = await fetch(`${google.url}/emulator/stats`).then((response) => response.json());
    return stats.grants.authorization_code ?? 0;
  }

  it("runs the iOS backend sample: oauth2client exchange, discovery-built Drive, appDataFolder", async (ctx) => {
    const exchangesBefore = await codeExchanges();
    const { sub, result } = await runScript(
      ctx,
      "ios_backend_sample.py",
      "python-sample@example.com",
      ["https://www.googleapis.com/auth/drive.appdata"],
    );

    expect(result.sub).toBe(sub);
    expect(result.email).toBe("python-sample@example.com");
    expect(result.hasRefreshToken).toBe(true);
    expect(result.folder).toEqual({
      kind: "drive#file",
      id: expect.stringMatching(/^0A/),
      name: "Application Data",
      mimeType: "application/vnd.google-apps.folder",
    });
    expect(result.created).toEqual({
      id: expect.any(String),
      name: "settings.json",
      size: String(Buffer.byteLength(result.downloaded)),
      parents: [result.folder.id],
    });
    expect(result.listed).toEqual({ files: [{ id: result.created.id, name: "settings.json" }] });
    expect(JSON.parse(result.downloaded)).toEqual({ sub, theme: "dark" });
    // The code was exchanged at the emulator's /token (with redirect_uri=postmessage).
    expect(await codeExchanges()).toBe(exchangesBefore + 1);
  });

  it("drives the Photos Library API built from the emulator's discovery document", async (ctx) => {
    const scope = "https://www.googleapis.com/auth/photoslibrary";
    const { result } = await runScript(ctx, "photos_library.py", "python-photos@example.com", [
      `${scope}.appendonly`,
      `${scope}.readonly.appcreateddata`,
    ]);

    expect(result.uploadStatus).toBe(200);
    expect(result.album).toMatchObject({ title: "From Python", mediaItemsCount: "1" });
    // A base URL is signed with the second it was made in, as Google's change from call to call.
    const { coverPhotoBaseUrl, ...album } = result.album;
    expect(result.albums).toEqual({
      albums: [
        { ...album, coverPhotoBaseUrl: expect.stringMatching(baseUrlPrefix(coverPhotoBaseUrl)) },
      ],
    });
    expect(result.created.newMediaItemResults[0].status).toEqual({ message: "Success" });
    expect(result.item).toMatchObject({
      filename: "a.gif",
      mimeType: "image/gif",
      mediaMetadata: { width: "2", height: "3" },
    });
    expect(result.sameBytes).toBe(true);
  });
});

describe("google-api-python-client batches against the emulator", () => {
  let google: Emulator;
  let dir: string;

  beforeAll(async () => {
    google = await withEmulator();
    dir = await mkdtemp(join(tmpdir(), "steward-python-batch-"));
  });
  afterAll(async () => {
    await google.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs new_batch_http_request(): creates and a failing get in one batch, then a list", async (ctx) => {
    if (python === undefined) {
      if (process.env.CI) throw new Error(MISSING);
      ctx.skip(MISSING);
    }
    const secretFile = join(dir, "client_secret.json");
    await writeClientSecretFile(secretFile, google.url, google.defaultClient);
    const { serverAuthCode } = await sdkSignIn(google, {
      email: "python-batch@example.com",
      scopes: ["https://www.googleapis.com/auth/drive.appdata"],
    });
    const { stdout } = await run(
      python as string,
      [join(SCRIPTS, "drive_batch.py"), google.url, secretFile, serverAuthCode],
      { env: offlineEnv(), timeout: 60_000 },
    );
    const { batchUri, results } = JSON.parse(stdout);

    expect(batchUri).toBe(`${google.url}/batch/drive/v3`);
    const folderId = results["a.json"].response.parents[0];
    expect(folderId).toMatch(/^0A/);
    for (const name of ["a.json", "b.json", "c.json"]) {
      expect(results[name].response).toEqual({ id: expect.any(String), name, parents: [folderId] });
    }
    expect(results.missing).toMatchObject({
      status: 404,
      error: { error: { code: 404, message: "File not found: no-such-file." } },
    });
    expect(results.list.response.files.map((file: { name: string }) => file.name)).toEqual([
      "a.json",
      "b.json",
      "c.json",
    ]);
    const stats = await fetch(`${google.url}/emulator/stats`).then((response) => response.json());
    expect(stats.requests["/batch/drive/v3"]).toBe(2);
  });
});

/** A photo base URL up to its expiry and signature (`<id>.<expiry>.<signature>`). */
function baseUrlPrefix(baseUrl: string): RegExp {
  const stem = baseUrl.slice(0, baseUrl.lastIndexOf(".", baseUrl.lastIndexOf(".") - 1));
  return new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.\\d+\\.[\\w-]+$`);
}
