// The start banner names where a first-time user goes next: the mounted apps' pages (the demo at
// `/`, mounted with `--app`, or by `steward start` on its own, against an emulator, as `npm start`
// does) and the admin page at `/admin`.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sharedEnvironment, startTestService, type TestService } from "../server/helpers.js";
import { killRunningClis, startCli } from "./support/cli-process.js";

let steward: TestService;
let dataDir: string;
let helloApp: string;

beforeAll(async () => {
  steward = await startTestService();
  dataDir = await mkdtemp(join(tmpdir(), "steward-banner-"));
  helloApp = join(dataDir, "hello.mjs");
  await writeFile(
    helloApp,
    'export default { name: "Hello", home: "/hello/", plugin: async () => {} };\n',
  );
}, 120_000);
afterAll(async () => {
  killRunningClis();
  await steward?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function serve(emulated: boolean, args: string[] = [], command = "serve") {
  const shared = await sharedEnvironment(steward);
  const google = emulated
    ? {}
    : {
        STEWARD_GOOGLE: shared.STEWARD_GOOGLE,
        GOOGLE_CLIENT_ID: shared.GOOGLE_CLIENT_ID,
        GOOGLE_CLIENT_SECRET: shared.GOOGLE_CLIENT_SECRET,
      };
  const inherited = Object.entries(process.env).filter(
    ([name]) => !/^(STEWARD_|GOOGLE_|DATABASE_URL$)/.test(name),
  );
  return startCli([command, ...args], {
    ...Object.fromEntries(inherited),
    DATABASE_URL: shared.DATABASE_URL,
    STEWARD_KEYS: shared.STEWARD_KEYS,
    ...google,
    STEWARD_DATA_DIR: dataDir,
    STEWARD_PORT: "0",
    STEWARD_ADMIN_TOKEN: randomBytes(32).toString("hex"),
    STEWARD_LOG_LEVEL: "warn",
  });
}

function url(stdout: string): string {
  return /Steward is listening on (\S+)/.exec(stdout)?.[1] as string;
}

const DEMO = ["--app", "@steward/photo-demo"];

it("in emulator mode names the demo at / and the admin page", async () => {
  const service = await serve(true, ["--emulator-port", "0", ...DEMO]);
  await service.printed("Database:");
  const { stdout } = service.output();
  const base = url(stdout);
  expect(stdout).toContain(`\n  Demo: ${base}/\n`);
  expect(stdout).toContain(`\n  Admin page: ${base}/admin\n`);
  // Both answer where the banner says.
  expect((await fetch(`${base}/`)).status).toBe(200);
  expect((await fetch(`${base}/admin`)).status).toBe(200);
  // An admin token is set here: the admin page is not told it is off.
  expect(await (await fetch(`${base}/admin/status`)).json()).toEqual({
    adminTokenConfigured: true,
  });
  service.child.kill("SIGTERM");
  expect(await service.exited).toBe(0);
}, 90_000);

it("against an emulator of its own also names the demo, which is served there too", async () => {
  const service = await serve(false, DEMO);
  await service.printed("Database:");
  const { stdout } = service.output();
  const base = url(stdout);
  expect(stdout).toContain(`\n  Demo: ${base}/\n`);
  expect(stdout).toContain(`\n  Admin page: ${base}/admin\n`);
  expect((await fetch(`${base}/`)).status).toBe(200);
  service.child.kill("SIGTERM");
  expect(await service.exited).toBe(0);
}, 90_000);

it.each(["start", "serve"])(
  "steward %s without --app mounts the demo against the emulator, as it always has",
  async (command) => {
    const service = await serve(true, ["--emulator-port", "0"], command);
    await service.printed("Database:");
    const { stdout } = service.output();
    const base = url(stdout);
    expect(stdout).toContain(`\n  Demo: ${base}/\n`);
    const config = await fetch(`${base}/demo/api/config`);
    expect(config.status).toBe(200);
    expect(await config.json()).toHaveProperty("clientId");
    expect((await fetch(`${base}/`)).status).toBe(200);
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
  },
  90_000,
);

it("steward start with --app mounts only the apps named", async () => {
  const service = await serve(true, ["--emulator-port", "0", "--app", helloApp], "start");
  await service.printed("Database:");
  const { stdout } = service.output();
  const base = url(stdout);
  expect(stdout).toContain(`\n  Hello: ${base}/hello/\n`);
  expect(stdout).not.toContain("Demo:");
  expect((await fetch(`${base}/demo/api/config`)).status).toBe(404);
  service.child.kill("SIGTERM");
  expect(await service.exited).toBe(0);
}, 90_000);
