// `--app <module>`: a path or an installed package whose default export is a StewardApp; anything
// else is refused by name before the service starts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectApps, defaultApps, loadApp } from "../../src/cli/app-module.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "steward-app-module-"));
  await writeFile(
    join(dir, "hello.mjs"),
    'export default { name: "Hello", home: "/hello/", plugin: async () => {} };\n',
  );
  await writeFile(join(dir, "nothing.mjs"), "export const answer = 42;\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("defaultApps (steward start without --app)", () => {
  it("is the photo demo against an emulator, when it is installed", async () => {
    const apps = await defaultApps(true);
    expect(apps.map((app) => [app.name, app.emulatorOnly])).toEqual([["Demo", true]]);
  });

  it("is none against Google, and none where the demo is not installed", async () => {
    expect(await defaultApps(false)).toEqual([]);
    expect(await defaultApps(true, dir)).toEqual([]);
  });
});

describe("loadApp", () => {
  it("takes a path's default export when it is an app", async () => {
    const app = await loadApp(join(dir, "hello.mjs"));
    expect([app.name, app.home, typeof app.plugin]).toEqual(["Hello", "/hello/", "function"]);
  });

  it("takes an installed package by name: the photo demo, emulator-only", async () => {
    const app = await loadApp("@steward/photo-demo");
    expect([app.name, app.home, app.emulatorOnly]).toEqual(["Demo", "/", true]);
  });

  it("refuses a module that exports no app, and a package that is not installed", async () => {
    await expect(loadApp(join(dir, "nothing.mjs"))).rejects.toThrow(/exports no app/);
    await expect(loadApp("@steward/no-such-app")).rejects.toThrow(/is not installed here/);
  });

  it("collects a repeated flag in order", () => {
    expect(collectApps("./b.js", collectApps("./a.js"))).toEqual(["./a.js", "./b.js"]);
  });
});
