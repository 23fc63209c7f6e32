import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { sdkSignIn, withEmulator } from "./helpers.js";

/*
 * The guide's backend flow in Go, with golang.org/x/oauth2 unchanged but for the token URL:
 * code exchange, the ID token in the answer, Drive's appDataFolder through the library's HTTP
 * client, a refresh once the token has expired, and the reused code's invalid_grant.
 */

const run = promisify(execFile);
const PROGRAM = fileURLToPath(new URL("./go/guide_flow.go", import.meta.url));
const GO_OAUTH2 = "/usr/share/gocode/src/golang.org/x/oauth2";
const PACKAGES = "golang-go golang-golang-x-oauth2-dev";
const APPDATA = "https://www.googleapis.com/auth/drive.appdata";

/** The child's environment without proxies, so loopback requests stay on loopback. */
function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(name)) delete env[name];
  }
  return { ...env, NO_PROXY: "*", ...extra };
}

const goFound =
  spawnSync("go", ["version"], { stdio: "ignore" }).status === 0 && existsSync(GO_OAUTH2);

let google: Emulator;
let dir: string;

beforeAll(async () => {
  google = await withEmulator();
  dir = await mkdtemp(join(tmpdir(), "steward-go-client-"));
});
afterAll(async () => {
  await google.close();
  await rm(dir, { recursive: true, force: true });
});

it("runs the guide's flow with golang.org/x/oauth2: exchange, ID token, Drive appDataFolder, refresh, reused code refused", async (ctx) => {
  if (!goFound) {
    const message = `missing toolchain: apt-get install ${PACKAGES}`;
    if (process.env.CI) throw new Error(message);
    ctx.skip(message);
  }
  const binary = join(dir, "guide_flow");
  // GOPATH mode over Debian's sources: offline, no module proxy.
  await run("go", ["build", "-o", binary, PROGRAM], {
    timeout: 180_000,
    env: offlineEnv({
      GO111MODULE: "off",
      GOPATH: "/usr/share/gocode",
      GOFLAGS: "",
      GOCACHE: join(dir, "cache"),
    }),
  });
  const signIn = await sdkSignIn(google, { email: "gopher@example.com", scopes: [APPDATA] });
  const { clientId, clientSecret } = google.defaultClient;
  const { stdout } = await run(
    binary,
    [google.url, clientId, clientSecret as string, signIn.serverAuthCode],
    { env: offlineEnv(), timeout: 60_000 },
  );
  const result = JSON.parse(stdout);
  expect(result).toMatchObject({
    hasRefreshToken: true,
    sub: signIn.sub,
    email: "gopher@example.com",
    aud: clientId,
    refreshed: true,
    reuseError: "invalid_grant",
    reuseStatus: 400,
  });
  expect(result.listed).toEqual([{ id: result.created, name: "go-guide.json" }]);
}, 240_000);
