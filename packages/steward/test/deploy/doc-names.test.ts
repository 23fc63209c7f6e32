import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/server/plugins/metrics.js";
import { blockStartingWith, DEPLOY_DOC, repoPath } from "./support.js";

const SETTING = /\b(?:STEWARD_[A-Z0-9_]+|DATABASE_URL|GOOGLE_[A-Z0-9_]+)\b/g;
const LOAD_TS = readFileSync(repoPath("packages", "steward", "src", "config", "load.ts"), "utf8");
const CONFIGURATION_MD = readFileSync(repoPath("docs", "configuration.md"), "utf8");

/** Every variable src/config/load.ts reads (`env.NAME`). */
const readByLoad = new Set([...LOAD_TS.matchAll(/\benv\.([A-Z0-9_]+)/g)].map((m) => m[1]));

describe("docs/deploy.md names only what exists", () => {
  it("is linked from the README", () => {
    expect(readFileSync(repoPath("README.md"), "utf8")).toContain("(docs/deploy.md)");
  });

  it("every STEWARD_*, DATABASE_URL and GOOGLE_* variable is read by src/config/load.ts and documented", () => {
    const named = [...new Set(DEPLOY_DOC.match(SETTING))].sort();
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((name) => !readByLoad.has(name))).toEqual([]);
    expect(named.filter((name) => !CONFIGURATION_MD.includes(`\`${name}\``))).toEqual([]);
  });

  it("the environment file's keys are settings", () => {
    const envFile = blockStartingWith(DEPLOY_DOC, "ini", "# /etc/steward/steward.env\n");
    const keys = envFile
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => line.slice(0, line.indexOf("=")));
    expect(keys.length).toBeGreaterThan(5);
    expect(keys.filter((key) => !readByLoad.has(key))).toEqual([]);
  });

  it("every steward_* metric the page and its alert rules name is one the service exports", async () => {
    const exported = await new Metrics().registry.getMetricsAsJSON();
    const families = new Set(exported.map((metric) => metric.name));
    const start = DEPLOY_DOC.indexOf("## Health, readiness and metrics");
    const section = DEPLOY_DOC.slice(start, DEPLOY_DOC.indexOf("\n## ", start + 1));
    const named = [...new Set(section.match(/\bsteward_[a-z0-9_]+/g))];
    expect(named.length).toBeGreaterThan(5);
    const unknown = named.filter(
      (name) => !families.has(name) && !families.has(name.replace(/_(bucket|count|sum)$/, "")),
    );
    expect(unknown).toEqual([]);
  });
});
