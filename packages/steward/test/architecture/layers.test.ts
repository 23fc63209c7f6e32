// layers.cjs names every folder of the product once, and nothing that is not there: a new folder
// cannot slip past the dependency rules generated from it (.dependency-cruiser.cjs).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { exceptions, layers, PRODUCT_SRC, productFolders } from "./tree.js";

const listed = layers.flatMap((layer) => layer.folders);

describe("layers.cjs", () => {
  it("names every folder of the product", () => {
    const missing = productFolders().filter((folder) => !listed.includes(folder));
    expect(missing, "folders of the product that layers.cjs does not name").toEqual([]);
  });

  it("names each folder once, and only folders (or top files) that exist", () => {
    expect(listed.length).toBe(new Set(listed).size);
    const absent = listed.filter((name) => !existsSync(`${PRODUCT_SRC}/${name}`));
    expect(absent, "names in layers.cjs that are not in the tree").toEqual([]);
  });

  it("lists exceptions only between listed folders, each upward and with its way out", () => {
    const layerOf = (folder: string) => layers.findIndex((l) => l.folders.includes(folder));
    for (const { from, to, until } of exceptions) {
      expect(layerOf(from)).toBeGreaterThanOrEqual(0);
      expect(layerOf(to), `${from} → ${to} is allowed anyway`).toBeGreaterThanOrEqual(
        layerOf(from),
      );
      expect(until).not.toBe("");
    }
  });

  it("is what .dependency-cruiser.cjs is made of: one rule per folder", () => {
    const config = createRequire(import.meta.url)("../../../../.dependency-cruiser.cjs") as {
      forbidden: { name: string }[];
    };
    const names = config.forbidden.map((rule) => rule.name);
    for (const layer of layers) {
      for (const folder of layer.folders) expect(names).toContain(`layer-${layer.name}:${folder}`);
    }
    expect(names).toEqual(
      expect.arrayContaining(["folder-in-layers", "no-folder-cycle", "no-circular"]),
    );
  });
});
