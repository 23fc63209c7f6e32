// `npx tsx bench/route-ab.ts DIR_A DIR_B [ROUNDS]`: the access-token route of two checkouts (each
// with its node_modules, e.g. `git worktree add` of main and of a change) served at the same time
// on one core and loaded together from the other, as bench/servers/steward-service.ts serves it.
// Sharing the core and the moment cancels what this shared machine does to both: run one after
// the other, the same server swung by ±20% within a minute, hiding changes of 5–10%. Prints each
// round's rate per CPU-second of each service, and the median ratio B/A.
// Not a verdict (a server with half a core has twice the latency): a tool for telling changes
// apart. Two starts of the same checkout differ by up to ~7% (JIT and heap layout), so compare
// with fresh processes twice before believing a few percent.
import { randomBytes } from "node:crypto";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { whilePinnedTo } from "./lib/affinity.js";
import { getLoad } from "./lib/get-load.js";
import { type PinnedChild, startPinned } from "./lib/pinned-child.js";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const ROUND_SECONDS = 3;
const CONNECTIONS_EACH = 32;

interface ServiceReady {
  url: string;
  sub: string;
}

const [dirA, dirB, roundsArgument] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error("usage: tsx bench/route-ab.ts DIR_A DIR_B [ROUNDS]");
const rounds = Number(roundsArgument ?? 6);
const adminToken = randomBytes(32).toString("base64url");

const services: PinnedChild<ServiceReady>[] = [];
try {
  for (const dir of [dirA, dirB]) {
    const script = join(resolve(dir), "bench", "servers", "steward-service.ts");
    services.push(
      await startPinned<ServiceReady>({
        core: 0,
        script: relative(BENCH_DIR, script),
        env: { STEWARD_ADMIN_TOKEN: adminToken },
        timeoutMs: 120_000,
      }),
    );
  }
  const loadBoth = (durationSeconds: number) =>
    Promise.all(
      services.map(async (service) => {
        const result = await getLoad({
          url: `${service.ready.url}/v1/users/${service.ready.sub}/access-token`,
          headers: { authorization: `Bearer ${adminToken}` },
          serverPid: service.pid,
          durationSeconds,
          connections: CONNECTIONS_EACH,
        });
        if (result.errors > 0) throw new Error(`${result.errors} failed requests`);
        return result.requestsPerSecond / (result.serverBusy ?? 1);
      }),
    );
  const ratios = await whilePinnedTo(1, async () => {
    await loadBoth(2);
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const [a, b] = (await loadBoth(ROUND_SECONDS)) as [number, number];
      ratios.push(b / a);
      console.log(
        `round ${round + 1}: A ${a.toFixed(0)}/CPU-s, B ${b.toFixed(0)}/CPU-s, B/A ${(b / a).toFixed(3)}`,
      );
    }
    return ratios;
  });
  const sorted = ratios.value.sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  console.log(
    `median B/A ${median.toFixed(3)} (rounds ${sorted[0]?.toFixed(3)}–${sorted.at(-1)?.toFixed(3)})`,
  );
} finally {
  for (const service of services) await service.stop();
}
process.exit();
