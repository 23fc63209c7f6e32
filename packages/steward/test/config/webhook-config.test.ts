import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { StewardError } from "../../src/errors.js";

const SECRET = "whsec-0123456789abcdefghijklmnopqrstuvwxyz";

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(StewardError);
    expect((error as StewardError).code).toBe("config_invalid");
    return (error as StewardError).message;
  }
  throw new Error("expected config_invalid");
}

describe("STEWARD_WEBHOOK_URL and STEWARD_WEBHOOK_SECRET", () => {
  it("are off by default", () => {
    expect(loadConfig({}).webhook).toBeUndefined();
  });

  it("accept https anywhere and http to a loopback address", () => {
    for (const url of [
      "https://hooks.example.com/steward",
      "http://127.0.0.1:9000/hooks",
      "http://localhost/hooks",
      "http://[::1]:8080/",
    ]) {
      const config = loadConfig({ STEWARD_WEBHOOK_URL: url, STEWARD_WEBHOOK_SECRET: SECRET });
      expect(config.webhook).toEqual({ url, secret: SECRET });
      expect(Object.isFrozen(config.webhook)).toBe(true);
    }
  });

  it("go together", () => {
    expect(problemsOf({ STEWARD_WEBHOOK_URL: "https://h.example.com" })).toContain(
      "STEWARD_WEBHOOK_URL and STEWARD_WEBHOOK_SECRET go together",
    );
    expect(problemsOf({ STEWARD_WEBHOOK_SECRET: SECRET })).toContain("go together");
  });

  it("refuse plain http off loopback, other schemes and a short secret, echoing neither value", () => {
    for (const url of [
      "http://hooks.example.com/steward?token=abc",
      "http://10.0.0.5/hooks",
      "ftp://127.0.0.1/",
      "not a url",
    ]) {
      const message = problemsOf({ STEWARD_WEBHOOK_URL: url, STEWARD_WEBHOOK_SECRET: SECRET });
      expect(message).toContain("STEWARD_WEBHOOK_URL must be an https:// URL");
      expect(message).not.toContain(url);
      expect(message).not.toContain(SECRET);
    }
    const short = "s".repeat(31);
    const message = problemsOf({
      STEWARD_WEBHOOK_URL: "https://h.example.com",
      STEWARD_WEBHOOK_SECRET: short,
    });
    expect(message).toContain("STEWARD_WEBHOOK_SECRET must be at least 32 characters");
    expect(message).not.toContain(short);
  });
});
