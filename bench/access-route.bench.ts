// The access-token route over HTTP (`GET /v1/users/{sub}/access-token` of the real service, a
// signed-in user whose token is cached) against a bare Fastify route answering the same JSON,
// in alternating rounds, each server alone on core 0, autocannon in this process on core 1.
// BENCH_SECONDS sets the seconds per round; BENCH_TOKENS_CPU_PROF=DIR writes CPU profiles of
// both servers (see bench/cpu-profile-top.ts).
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { type HttpMeasurements, type RouteSetup, routeSection } from "./lib/access-route-report.js";
import { whilePinnedTo } from "./lib/affinity.js";
import { type GetLoadResult, getLoad } from "./lib/get-load.js";
import { type PinnedChild, startPinned } from "./lib/pinned-child.js";

const SETUP: RouteSetup = {
  serverCore: 0,
  loadCore: 1,
  httpSeconds: Number(process.env.BENCH_SECONDS ?? 3),
  httpWarmUpSeconds: 2,
  httpRounds: 3,
  connections: 64,
};

export default async function run(): Promise<string> {
  const loadBefore = loadavg()[0] as number;
  const { value, pinned } = await whilePinnedTo(SETUP.loadCore, measureHttp);
  return routeSection(value, SETUP, { loadBefore, loadAfter: loadavg()[0] as number, pinned })
    .markdown;
}

/** The measurements, reporting a service that does not start as a failure of the section. */
async function measureHttp(): Promise<HttpMeasurements> {
  try {
    return await measureRoute();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { state: "failing", probe: { status: 0, body: `the benchmark failed: ${detail}` } };
  }
}

async function measureRoute(): Promise<HttpMeasurements> {
  const adminToken = randomBytes(32).toString("base64url");
  const children: PinnedChild<unknown>[] = [];
  try {
    // The service logs at info, as `steward serve` does (the route itself logs at warn).
    const profileDir = process.env.BENCH_TOKENS_CPU_PROF;
    const steward = await startPinned<ServiceReady>({
      core: SETUP.serverCore,
      script: "servers/steward-service.ts",
      env: { STEWARD_ADMIN_TOKEN: adminToken },
      nodeFlags: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
      timeoutMs: 120_000,
    });
    children.push(steward);
    const probe = steward.ready.probe;
    if (probe.status === 404 && probe.body.includes('"not_found"')) {
      return { state: "absent", probe };
    }
    if (probe.status !== 200) return { state: "failing", probe };
    const bare = await startPinned<{ url: string }>({
      core: SETUP.serverCore,
      script: "servers/bare-fastify.ts",
      env: { CONSTANT_BODY: probe.body },
      nodeFlags: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [],
    });
    children.push(bare);
    const path = (sub: string) => `/v1/users/${sub}/access-token`;
    const targets = {
      steward: { child: steward, url: `${steward.ready.url}${path(steward.ready.sub)}` },
      bare: { child: bare, url: `${bare.ready.url}${path("109876543210987654321")}` },
    };
    const headers = { authorization: `Bearer ${adminToken}` };
    const load = (target: (typeof targets)["bare"], durationSeconds: number) =>
      getLoad({
        url: target.url,
        headers,
        serverPid: target.child.pid,
        durationSeconds,
        connections: SETUP.connections,
      });
    for (const target of Object.values(targets)) await load(target, SETUP.httpWarmUpSeconds);
    const rounds: Record<keyof typeof targets, GetLoadResult[]> = {
      steward: [],
      bare: [],
    };
    for (let round = 0; round < SETUP.httpRounds; round++) {
      for (const name of ["bare", "steward"] as const) {
        rounds[name].push(await load(targets[name], SETUP.httpSeconds));
      }
    }
    return { state: "measured", probe, rounds, responseBytes: Buffer.byteLength(probe.body) };
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

interface ServiceReady {
  url: string;
  sub: string;
  probe: { status: number; body: string };
}
