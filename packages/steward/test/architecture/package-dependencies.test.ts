// The product's package.json lists what a production install needs and nothing else: no
// dependency that only the emulator, the demo or the tests use (those live in their own
// package.json or in the private workspace root's devDependencies).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
}

const manifest = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Manifest;
const root = manifest("package.json");
const product = manifest("packages/steward/package.json");
const productDependencies = Object.keys(product.dependencies ?? {});

describe("the product's package.json", () => {
  it("is the package `steward`, beside the emulator and the demo under a private root", () => {
    expect(product.name).toBe("steward");
    expect(root.private).toBe(true);
    expect(root.dependencies ?? {}).toEqual({});
    expect(root.workspaces).toEqual(expect.arrayContaining(["packages/steward"]));
  });

  it("lists none of the tests' tools as a dependency", () => {
    const testOnly = productDependencies.filter((name) => name in (root.devDependencies ?? {}));
    expect(testOnly).toEqual([]);
  });

  it("lists only packages its own source imports, so neither the emulator's nor the demo's", () => {
    const source = readdirSync("packages/steward/src", { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => readFileSync(join("packages/steward/src", file), "utf8"))
      .join("\n");
    const unused = productDependencies.filter(
      (name) => !source.includes(`"${name}"`) && !source.includes(`"${name}/`),
    );
    expect(unused, "dependencies no file of packages/steward/src names").toEqual([]);
    for (const theirs of ["sharp", "node-forge", "@steward/emulator"]) {
      expect(productDependencies).not.toContain(theirs);
    }
  });
});
