import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";

describe("STEWARD_IDLE_REFRESH_DAYS and STEWARD_IDLE_REFRESH_PER_MINUTE", () => {
  it("default to 30 days and 60 a minute", () => {
    expect(loadConfig({}).idleRefresh).toEqual({ days: 30, perMinute: 60 });
  });

  it("take whole numbers", () => {
    const config = loadConfig({
      STEWARD_IDLE_REFRESH_DAYS: "14",
      STEWARD_IDLE_REFRESH_PER_MINUTE: "600",
    });
    expect(config.idleRefresh).toEqual({ days: 14, perMinute: 600 });
  });

  it("refuse a threshold past Google's six months, a zero rate and non-numbers, naming each", () => {
    expect(() =>
      loadConfig({ STEWARD_IDLE_REFRESH_DAYS: "200", STEWARD_IDLE_REFRESH_PER_MINUTE: "0" }),
    ).toThrow(
      /STEWARD_IDLE_REFRESH_DAYS must be a whole number of days from 1 to 150[\s\S]*STEWARD_IDLE_REFRESH_PER_MINUTE must be a whole number from 1 to 6000/,
    );
    expect(() => loadConfig({ STEWARD_IDLE_REFRESH_DAYS: "1.5" })).toThrow(
      /STEWARD_IDLE_REFRESH_DAYS/,
    );
  });
});
