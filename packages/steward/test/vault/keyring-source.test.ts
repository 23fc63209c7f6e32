import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { generateKeyLine, Keyring, loadKeyring } from "../../src/crypto/index.js";

// Root (which runs these tests) reads a chmod 000 file anyway, so an unreadable key file is
// simulated: reads of the paths in `refused` fail with their errno code.
const refused = vi.hoisted(() => new Map<string, string>());
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  const readFile = (async (path: unknown, ...rest: unknown[]) => {
    const code = refused.get(String(path));
    if (code !== undefined) {
      throw Object.assign(new Error(`${code}: refused, open '${String(path)}'`), { code });
    }
    return (actual.readFile as (...args: unknown[]) => Promise<unknown>)(path, ...rest);
  }) as typeof actual.readFile;
  return { ...actual, readFile, default: { ...actual, readFile } };
});

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "steward-keyring-source-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  refused.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const generate = (dir: string) =>
  loadKeyring({ value: undefined, dataDir: dir, whenUnset: "generate" });

describe("loadKeyring's generated key", () => {
  it.each(["EACCES", "EMFILE", "EIO"])(
    "is never replaced when it exists but reading it fails with %s",
    async (code) => {
      const dir = dataDir();
      const file = join(dir, "generated-key");
      const line = generateKeyLine("generated-2026-01-01");
      writeFileSync(file, `${line}\n`, { mode: 0o600 });
      refused.set(file, code);
      const failure = await generate(dir).catch((error: unknown) => error);
      expect(readFileSync(file, "utf8")).toBe(`${line}\n`);
      expect(failure).toMatchObject({
        code: "keys_invalid",
        message: expect.stringContaining(`generated key file ${file} cannot be read (${code})`),
      });
      expect((failure as Error).message).not.toContain(line.slice(line.indexOf(":") + 1));
      expect(readdirSync(dir)).toEqual(["generated-key"]);
    },
  );

  it("is reported, and left as it is, when its path is a directory (EISDIR)", async () => {
    const dir = dataDir();
    const file = join(dir, "generated-key");
    mkdirSync(file);
    writeFileSync(join(file, "kept"), "kept");
    for (const whenUnset of ["generate", "use-generated"] as const) {
      await expect(
        loadKeyring({ value: undefined, dataDir: dir, whenUnset }),
      ).rejects.toMatchObject({
        code: "keys_invalid",
        message: expect.stringContaining(`generated key file ${file} cannot be read (EISDIR)`),
      });
    }
    expect(readFileSync(join(file, "kept"), "utf8")).toBe("kept");
    expect(readdirSync(dir)).toEqual(["generated-key"]);
  });

  it("is one key that concurrent first starts all agree on", async () => {
    const dir = dataDir();
    const rings = await Promise.all(Array.from({ length: 8 }, () => generate(dir)));
    const stored = Keyring.parse(readFileSync(join(dir, "generated-key"), "utf8").trim());
    for (const ring of rings) {
      expect(ring.activeKid).toBe(stored.activeKid);
      expect(ring.activeKey().equals(stored.activeKey())).toBe(true);
    }
    // No staging file is left beside it.
    expect(readdirSync(dir)).toEqual(["generated-key"]);
  });
});
