// docs/architecture.md says which folder holds what and draws the layers: its folder table has
// exactly one row per folder at the top of packages/*/src, no row for a folder that is
// not there, and its picture names every folder of layers.cjs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { layers, sourceFolders } from "../architecture/tree.js";

const doc = readFileSync("docs/architecture.md", "utf8");
/** The first cell of each table row naming a source folder, without its trailing slash. */
const rows = [...doc.matchAll(/^\| `(packages\/[^/`]+\/src\/[^/`]+)\/` +\|/gm)].map(
  (match) => match[1] as string,
);

describe("docs/architecture.md's folder table", () => {
  it("has a row for every folder of packages/*/src", () => {
    const missing = sourceFolders().filter((folder) => !rows.includes(folder));
    expect(missing, "folders without a row").toEqual([]);
  });

  it("has one row per folder, each naming a folder that is there", () => {
    expect(rows.length).toBe(new Set(rows).size);
    const stale = rows.filter((row) => !sourceFolders().includes(row));
    expect(stale, "rows naming no folder").toEqual([]);
  });
});

describe("docs/architecture.md's picture", () => {
  const picture = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";

  it("draws every layer of layers.cjs with its folders, the highest first", () => {
    const at = layers.map((layer) => {
      const where = layer.folders.map((folder) =>
        picture.search(new RegExp(`\\b${folder.replace(".", "\\.")}\\b`)),
      );
      for (const [n, folder] of layer.folders.entries()) {
        expect(where[n], `${folder} (${layer.name}) is not drawn`).toBeGreaterThanOrEqual(0);
      }
      return Math.min(...where);
    });
    expect(at).toEqual([...at].sort((a, b) => b - a));
  });
});
