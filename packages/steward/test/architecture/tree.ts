import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";

/** A layer of layers.cjs: its name and its folders (or top-level files) of the product. */
export interface Layer {
  name: string;
  folders: string[];
  holds: string;
}

/** layers.cjs, the one list that .dependency-cruiser.cjs is generated from. */
export const { layers, exceptions, packages } = createRequire(import.meta.url)(
  "../../../../layers.cjs",
) as {
  layers: Layer[];
  exceptions: { from: string; to: string; until: string }[];
  packages: { name: string; mayImport: string[] }[];
};

const folders = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];

/** The product's source folder, relative to the repository root (where vitest runs). */
export const PRODUCT_SRC = "packages/steward/src";

/** The folders at depth 1 of the product's source. */
export function productFolders(): string[] {
  return folders(PRODUCT_SRC);
}

/** Every folder at depth 1 of packages/<name>/src, as a path (`packages/steward/src/vault`). */
export function sourceFolders(): string[] {
  const roots = folders("packages")
    .map((name) => `packages/${name}/src`)
    .filter(existsSync);
  return roots.flatMap((root) => folders(root).map((name) => `${root}/${name}`));
}
