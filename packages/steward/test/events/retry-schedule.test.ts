import { describe, expect, it } from "vitest";
import {
  checkRetrySchedule,
  DEFAULT_RETRY_SCHEDULE,
  retryDelayMs,
} from "../../src/events/retry-schedule.js";

describe("retryDelayMs", () => {
  it("doubles from the base, keeps between half and all of each step, and stops at the cap", () => {
    const schedule = { baseMs: 1_000, capMs: 10_000, maxAttempts: 20 };
    const low = (failures: number) => retryDelayMs(failures, schedule, () => 0);
    const high = (failures: number) => retryDelayMs(failures, schedule, () => 1);
    expect([1, 2, 3, 4, 5, 6, 30].map(high)).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000,
    ]);
    expect([1, 2, 3, 4, 5, 30].map(low)).toEqual([500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    for (let i = 0; i < 100; i++) {
      const delay = retryDelayMs(3, schedule);
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });

  it("has a default that gives up after 20 attempts with steps of at most 10 minutes", () => {
    expect(DEFAULT_RETRY_SCHEDULE).toEqual({ baseMs: 5_000, capMs: 600_000, maxAttempts: 20 });
    expect(retryDelayMs(1_000, DEFAULT_RETRY_SCHEDULE, () => 1)).toBe(600_000);
  });

  it("refuses a schedule that makes no sense", () => {
    expect(() => checkRetrySchedule({ baseMs: 0, capMs: 10, maxAttempts: 1 })).toThrow(/baseMs/);
    expect(() => checkRetrySchedule({ baseMs: 10, capMs: 5, maxAttempts: 1 })).toThrow(/capMs/);
    expect(() => checkRetrySchedule({ baseMs: 1, capMs: 5, maxAttempts: 0.5 })).toThrow(
      /maxAttempts/,
    );
  });
});
