// The fidelity table in docs/emulator.md is kept true: every route the emulator serves has a
// row, and every route a row names is served. A new route (batch, resumable uploads) therefore
// cannot land without saying in the table what it does.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { withEmulator } from "./helpers.js";

const DOC = new URL("../../../docs/emulator.md", import.meta.url);
const METHODS = "GET|POST|PUT|PATCH|DELETE";

let google: Emulator;
beforeAll(async () => {
  google = await withEmulator();
});
afterAll(() => google.close());

/**
 * Every `METHOD /path` the emulator serves, from Fastify's route tree (`HEAD` left out: it goes
 * with `GET`), path parameters written `{name}` as the docs write them.
 */
function servedRoutes(emulator: Emulator): Set<string> {
  const tree = emulator.app.printRoutes({ commonPrefix: false });
  const routes = new Set<string>();
  const prefixes: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] as string).length / 4;
    const path = (prefixes[depth - 1] ?? "") + (match[2] as string);
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (match[3] ?? "").split(", ")) {
      if (method !== "" && method !== "HEAD") routes.add(`${method} ${docPath(path)}`);
    }
  }
  return routes;
}

function docPath(path: string): string {
  return path.replace(/\/:(\w+)/g, "/{$1}");
}

/** The fidelity table's rows: the routes its first column names, and its third column. */
async function fidelityRows(): Promise<Array<{ routes: string[]; emulator: string }>> {
  const doc = await readFile(DOC, "utf8");
  const section = doc.split("\n## Fidelity\n")[1]?.split("\n#")[0] ?? "";
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("| ") && !/^\| (routes|---)/.test(line));
  return rows.map((row) => {
    const [routesCell = "", , emulatorCell = ""] = row.slice(2, -2).split(" | ");
    const routes = [...routesCell.matchAll(new RegExp(`\`((?:${METHODS}) /[^\`?]*)`, "g"))].map(
      (match) => match[1] as string,
    );
    return { routes, emulator: emulatorCell.trim() };
  });
}

describe("the fidelity table in docs/emulator.md", () => {
  it("reads the route tree (a Fastify format change fails here, not silently)", () => {
    const served = servedRoutes(google);
    expect(served.size).toBeGreaterThan(40);
    for (const route of [
      "POST /token",
      "GET /tokeninfo",
      "PATCH /drive/v3/files/{fileId}",
      "POST /v1/mediaItems:batchCreate",
      "POST /v1beta/stream/status:update",
      "GET /discovery/v1/apis/{api}/{version}/rest",
    ]) {
      expect(served, route).toContain(route);
    }
  });

  it("has a row for every route the emulator serves", async () => {
    const documented = new Set((await fidelityRows()).flatMap((row) => row.routes));
    const missing = [...servedRoutes(google)].filter((route) => !documented.has(route));
    expect(missing, "routes served but missing from the fidelity table").toEqual([]);
  });

  it("names only routes the emulator serves", async () => {
    const served = servedRoutes(google);
    const unknown = (await fidelityRows())
      .flatMap((row) => row.routes)
      .filter((route) => !served.has(route));
    expect(unknown, "routes in the fidelity table that the emulator does not serve").toEqual([]);
  });

  it("says of every row whether it is supported, partly, or not (and then what it answers)", async () => {
    const rows = await fidelityRows();
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) {
      expect(row.emulator).toMatch(/^(supported|partly:|not supported: .+|the emulator's own)/);
    }
  });
});
