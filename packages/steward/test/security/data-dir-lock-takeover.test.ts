// Regression: taking over the data-dir lock of a dead Steward was check-then-act (read the
// owner, see it dead, remove the file, link ours): a second taker that had read the dead owner
// too removed the first one's fresh lock, and two processes both held the data dir. Now
// exactly one of any number of concurrent takers wins; the others see it as the live owner.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/embedded-postgres/index.js";

const TAKERS = 8;
const ROUNDS = 15;
const fixture = fileURLToPath(new URL("./support/claim-data-dir.ts", import.meta.url));

interface Taker {
  readonly child: ChildProcess;
  /** The next line it prints. */
  next(): Promise<string>;
  send(line: string): void;
}

let dataDir: string;
const takers: Taker[] = [];

function startTaker(): Taker {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, dataDir], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let end = buffered.indexOf("\n");
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
      end = buffered.indexOf("\n");
    }
  });
  return {
    child,
    next: () =>
      new Promise((resolve) => {
        const line = lines.shift();
        if (line !== undefined) resolve(line);
        else waiting.push(resolve);
      }),
    send: (line) => child.stdin?.write(`${line}\n`),
  };
}

/** A lock as a Steward killed with SIGKILL leaves it: its pid no longer runs. */
async function writeStaleLock(): Promise<void> {
  const dead = spawnSync(process.execPath, ["-e", ""]).pid;
  const owner = { pid: dead, purpose: "steward start", startedAt: new Date(0).toISOString() };
  await writeFile(join(dataDir, LOCK_FILE), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "steward-lock-takeover-"));
  for (let i = 0; i < TAKERS; i++) takers.push(startTaker());
  // Each answers a first release once loaded, so the claims below start together.
  for (const taker of takers) taker.send("release");
  await Promise.all(takers.map((taker) => taker.next()));
}, 60_000);
afterAll(async () => {
  for (const taker of takers) taker.child.kill("SIGKILL");
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

it("many processes taking over a stale lock at once: exactly one wins, the others see it", async () => {
  for (let round = 0; round < ROUNDS; round++) {
    await writeStaleLock();
    for (const taker of takers) taker.send("claim");
    const answers = await Promise.all(takers.map((taker) => taker.next()));
    const winners = takers.filter((_, i) => answers[i] === "won");
    expect({
      round,
      answers: answers.filter((answer) => answer !== "won" && !answer.startsWith("lost ")),
      winners: winners.length,
    }).toEqual({ round, answers: [], winners: 1 });
    const winner = winners[0] as Taker;
    // Every loser names the winner, and the file on disk is the winner's.
    expect(new Set(answers.filter((answer) => answer !== "won"))).toEqual(
      new Set([`lost ${winner.child.pid}`]),
    );
    expect(JSON.parse(await readFile(join(dataDir, LOCK_FILE), "utf8")).pid).toBe(winner.child.pid);
    for (const taker of takers) taker.send("release");
    await Promise.all(takers.map((taker) => taker.next()));
  }
}, 60_000);
