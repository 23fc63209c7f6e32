import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateKeyLine, Keyring } from "../../src/crypto/index.js";
import { startEmbeddedPostgres } from "../../src/embedded-postgres/index.js";
import { openVault } from "../../src/vault/index.js";
import { type Child, runFixture, stopChild } from "./support/child.js";
import { removeDataDir } from "./support/databases.js";

const keys = generateKeyLine("k1");
const keyring = Keyring.parse(keys);
const dataDir = mkdtempSync(join(tmpdir(), "steward-embedded-"));
const children: Child[] = [];
let firstPort: number | undefined;
afterAll(async () => {
  await Promise.all(children.map(stopChild));
  await removeDataDir(dataDir);
});

function startSteward(): Child {
  const child = runFixture("hold-embedded.ts", [], {
    STEWARD_DATA_DIR: dataDir,
    STEWARD_KEYS: keys,
  });
  children.push(child);
  return child;
}

/** The process group of `pid`, from /proc/PID/stat: "pid (comm) state ppid pgrp ...". */
function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("the embedded PostgreSQL of the default setup", () => {
  it("refuses a second Steward on the data dir, lets a CLI attach, and stops on SIGTERM", async () => {
    const steward = startSteward();
    const port = Number((await steward.waitFor(/ready (\d+)/, 60_000))[1]);
    firstPort = port;
    expect(existsSync(join(dataDir, "postgres", "PG_VERSION"))).toBe(true);
    // A terminal's Ctrl-C goes to a process group: the server is not in Steward's, so only
    // Steward hears it and stops the server once the work in flight is done.
    const postmaster = Number(
      readFileSync(join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0],
    );
    expect(processGroupOf(postmaster)).not.toBe(processGroupOf(steward.process.pid as number));

    const second = openVault({ dataDir, keyring, handleSignals: false });
    await expect(second).rejects.toMatchObject({
      code: "data_dir_locked",
      message: expect.stringMatching(
        new RegExp(`already running on .* \\(pid ${steward.process.pid}, "hold-embedded fixture"`),
      ),
    });
    await expect(startEmbeddedPostgres({ dataDir, handleSignals: false })).rejects.toMatchObject({
      code: "data_dir_locked",
    });

    const attached = await openVault({ dataDir, keyring, whenDataDirInUse: "attach" });
    expect(attached.database.embedded?.owned).toBe(false);
    await attached.store.upsertUser({ sub: "written-while-attached" });
    await attached.close();
    expect(await listening(port)).toBe(true); // closing an attached vault leaves the server be

    steward.process.kill("SIGTERM");
    expect(await steward.exited()).toBe(143);
    expect(existsSync(join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
    expect(existsSync(join(dataDir, "steward.lock"))).toBe(false);
    expect(await listening(port)).toBe(false);
  });

  it("reuses the cluster and its port after a restart, and stops on SIGINT", async () => {
    const steward = startSteward();
    const port = Number((await steward.waitFor(/ready (\d+)/, 60_000))[1]);
    // The same port as the first start: a worker attached to the cluster reconnects.
    expect(port).toBe(firstPort);
    // Attached as `steward worker` is, and kept open across the server's restart.
    const attached = await openVault({ dataDir, keyring, whenDataDirInUse: "attach" });
    expect(await attached.store.getUser("written-while-attached")).toBeDefined();

    steward.process.kill("SIGINT");
    expect(await steward.exited()).toBe(130);
    expect(existsSync(join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
    expect(await listening(port)).toBe(false);

    // And in this process too: same cluster, same data, the same port again, so the attached
    // vault's pool finds the server once more.
    const again = await openVault({ dataDir, keyring, handleSignals: false });
    try {
      expect(again.database.embedded?.owned).toBe(true);
      expect(await again.store.getUser("written-while-attached")).toBeDefined();
      expect(await attached.store.getUser("written-while-attached")).toBeDefined();
    } finally {
      await attached.close();
      await again.close();
    }
    expect(existsSync(join(dataDir, "steward.lock"))).toBe(false);
  });
});
