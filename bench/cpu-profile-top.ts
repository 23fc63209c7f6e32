// `npx tsx bench/cpu-profile-top.ts FILE.cpuprofile [N] [FROM-TO]`: the functions a V8 CPU profile
// (`node --cpu-prof`, or BENCH_EMULATOR_CPU_PROF=DIR npm run bench emulator) spent most time in,
// by self and by total (inclusive) time, as shares of the samples; FROM-TO (seconds from the
// profile's start, e.g. 7-10) looks at that window only.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, limitArgument, windowArgument] = process.argv.slice(2);
if (!file) throw new Error("usage: tsx bench/cpu-profile-top.ts FILE.cpuprofile [N] [FROM-TO]");
const limit = Number(limitArgument ?? 25);
const [fromSeconds, toSeconds] = (windowArgument ?? `0-${Number.MAX_VALUE}`).split("-").map(Number);
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${relative(process.cwd(), url.replace(/^file:\/\//, ""))}:${lineNumber + 1}`
    : "";
  return `${functionName || "(anonymous)"} ${where}`.trim();
}

const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
let elapsedMicros = 0;
profile.samples.forEach((id, index) => {
  const micros = profile.timeDeltas[index] ?? 0;
  elapsedMicros += micros;
  const elapsedSeconds = elapsedMicros / 1e6;
  if (elapsedSeconds < (fromSeconds ?? 0) || elapsedSeconds > (toSeconds ?? Number.MAX_VALUE)) {
    return;
  }
  all += micros;
  let node = byId.get(id);
  if (node === undefined) return;
  const selfLabel = label(node);
  self.set(selfLabel, (self.get(selfLabel) ?? 0) + micros);
  // Count each function once per sample, however deep its recursion.
  const seen = new Set<string>();
  while (node !== undefined) {
    const name = label(node);
    if (!seen.has(name)) total.set(name, (total.get(name) ?? 0) + micros);
    seen.add(name);
    const parent = parentOf.get(node.id);
    node = parent === undefined ? undefined : byId.get(parent);
  }
});

function print(title: string, times: Map<string, number>): void {
  console.log(`\n${title} (of ${(all / 1e6).toFixed(1)} s sampled)`);
  const top = [...times].sort((a, b) => b[1] - a[1]).slice(0, limit);
  for (const [name, micros] of top) {
    console.log(`${((100 * micros) / all).toFixed(1).padStart(5)}%  ${name}`);
  }
}

print("self time", self);
print("total time", total);
