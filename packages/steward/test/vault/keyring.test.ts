import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { generateKeyLine, Keyring, loadKeyring } from "../../src/crypto/index.js";
import { isStewardError } from "../../src/errors.js";
import type { VaultLogger } from "../../src/shared/index.js";

const key = (bytes = 32) => randomBytes(bytes).toString("base64");

function refusal(value: string): { code: string; message: string } {
  try {
    Keyring.parse(value);
  } catch (error) {
    if (isStewardError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("the keyring was accepted");
}

describe("Keyring.parse", () => {
  it("takes kid:base64 entries, the first one active", () => {
    const ring = Keyring.parse(` k2:${key()} , k1:${randomBytes(32).toString("base64url")}`);
    expect(ring.activeKid).toBe("k2");
    expect(ring.kids).toEqual(["k2", "k1"]);
    expect(ring.has("k1")).toBe(true);
    expect(ring.has("k3")).toBe(false);
  });

  it("accepts base64 without padding", () => {
    expect(Keyring.parse(`k1:${key().replace(/=$/, "")}`).kids).toEqual(["k1"]);
  });

  it.each([
    ["a 16-byte key", `k1:${key(16)}`],
    ["a 33-byte key", `k1:${key(33)}`],
    ["a key that is not base64", `k1:${"!".repeat(44)}`],
    ["an entry without a colon", key()],
  ])("refuses %s, naming STEWARD_KEYS and the entry, not echoing the key", (_, value) => {
    const { code, message } = refusal(`k0:${key()},${value}`);
    expect(code).toBe("keys_invalid");
    expect(message).toContain("STEWARD_KEYS entry 2");
    const secret = value.slice(value.indexOf(":") + 1);
    expect(message).not.toContain(secret);
  });

  it("refuses an empty value, a repeated kid and a malformed kid", () => {
    expect(refusal("  ").message).toContain("STEWARD_KEYS is empty");
    expect(refusal(`k1:${key()},k1:${key()}`).message).toBe(
      "STEWARD_KEYS entry 2: its kid repeats the kid of entry 1.",
    );
    expect(refusal(`bad kid:${key()}`).message).toContain("STEWARD_KEYS entry 1");
    expect(refusal(`k1:${key()},`).code).toBe("keys_invalid");
  });

  it("never echoes a key written where the kid belongs (an entry written backwards)", () => {
    // Unpadded, a key is 43 characters a kid may hold: base64url, or base64 without + or /.
    let plain = key().replace(/=$/, "");
    while (/[+/]/.test(plain)) plain = key().replace(/=$/, "");
    for (const secret of [randomBytes(32).toString("base64url"), plain]) {
      const backwards = refusal(`k0:${key()},${secret}:k1`);
      expect(backwards.code).toBe("keys_invalid");
      expect(backwards.message).not.toContain(secret);
      expect(backwards.message).toBe(
        "STEWARD_KEYS entry 2 looks backwards: write the kid first, then the key (kid:key).",
      );
      const twice = refusal(`${secret}:${key()},${secret}:${key()}`).message;
      expect(twice).toContain("STEWARD_KEYS entry 2");
      expect(twice).not.toContain(secret);
      expect(refusal(`${secret}:${key(16)}`).message).not.toContain(secret);
    }
  });

  it("never shows key material when printed, logged or serialized", () => {
    const line = generateKeyLine("k1");
    const secret = line.slice(3);
    const ring = Keyring.parse(line);
    const printed = [inspect(ring), JSON.stringify(ring), String(ring), inspect(ring.activeKey())];
    for (const text of printed) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret, "base64").toString("hex"));
    }
    expect(inspect(ring)).toBe("Keyring { active: 'k1', kids: ['k1'] }");
  });
});

describe("generateKeyLine", () => {
  it("makes a line that parses, with a dated kid by default", () => {
    const line = generateKeyLine();
    expect(line).toMatch(/^k\d{8}-[0-9a-f]{4}:[A-Za-z0-9+/]{43}=$/);
    expect(Keyring.parse(line).kids).toHaveLength(1);
    expect(generateKeyLine("k9").startsWith("k9:")).toBe(true);
    expect(() => generateKeyLine("no spaces")).toThrow(TypeError);
  });
});

describe("loadKeyring", () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "steward-keyring-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const recorder = () => {
    const warnings: string[] = [];
    const logger: VaultLogger = {
      debug() {},
      info() {},
      warn: (_fields, message) => warnings.push(message),
      error() {},
    };
    return { logger, warnings };
  };

  it("uses STEWARD_KEYS when it is set, whatever the mode", async () => {
    const ring = await loadKeyring({
      value: generateKeyLine("k7"),
      dataDir: dataDir(),
      whenUnset: "generate",
    });
    expect(ring.activeKid).toBe("k7");
  });

  it("refuses to run without keys when talking to Google", async () => {
    await expect(
      loadKeyring({ value: undefined, dataDir: dataDir(), whenUnset: "fail" }),
    ).rejects.toMatchObject({
      code: "keys_invalid",
      message: expect.stringContaining("STEWARD_KEYS is not set"),
    });
    await expect(
      loadKeyring({ value: "", dataDir: dataDir(), whenUnset: "fail" }),
    ).rejects.toMatchObject({
      code: "keys_invalid",
    });
  });

  it("in emulator mode generates a private key file once, with a warning, and reuses it", async () => {
    const dir = dataDir();
    const { logger, warnings } = recorder();
    const first = await loadKeyring({
      value: undefined,
      dataDir: dir,
      whenUnset: "generate",
      logger,
    });
    expect(warnings[0]).toContain("STEWARD_KEYS is unset");
    const file = join(dir, "generated-key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const line = readFileSync(file, "utf8").trim();
    expect(line.startsWith(`${first.activeKid}:`)).toBe(true);
    const second = await loadKeyring({ value: undefined, dataDir: dir, whenUnset: "generate" });
    expect(second.activeKid).toBe(first.activeKid);
    // CLI commands use the generated key if it exists, never create one, and leave the warning
    // to the service.
    const cli = recorder();
    expect(
      (
        await loadKeyring({
          value: undefined,
          dataDir: dir,
          whenUnset: "use-generated",
          logger: cli.logger,
        })
      ).activeKid,
    ).toBe(first.activeKid);
    expect(cli.warnings).toEqual([]);
    await expect(
      loadKeyring({ value: undefined, dataDir: dataDir(), whenUnset: "use-generated" }),
    ).rejects.toMatchObject({ code: "keys_invalid" });
  });
});
