// The soak's verdict on refreshes rests on this model: it must count one refresh per due
// token and flag a second one, or a broken single-flight would pass the soak.
import { describe, expect, it } from "vitest";
import { RefreshModel } from "../../../../bench/lib/soak-model.js";

const LIFE_MS = 420_000; // refreshed tokens fall due half-way: 210 s after their refresh
const EXPIRY = 1_000_000_000; // a seeded token's expiry; it falls due 300 s before
const DUE = EXPIRY - 300_000;

describe("the soak's refresh model", () => {
  it("expects nothing before a token falls due and one refresh for the first use after", () => {
    const model = new RefreshModel(LIFE_MS);
    model.addSeeded("a", EXPIRY);
    model.record("a", DUE - 60_000, DUE - 59_000);
    model.record("a", DUE + 10_000, DUE + 10_100);
    model.record("a", DUE + 20_000, DUE + 20_100); // the new token is still fresh
    expect(model.check(new Map([["a", 1]]))).toMatchObject({
      certainUsers: 1,
      expected: 1,
      actual: 1,
      usersWithExtra: 0,
      usersWithMissing: 0,
    });
  });

  it("flags a second refresh of one expiry, and a missing one", () => {
    const model = new RefreshModel(LIFE_MS);
    model.addSeeded("twice", EXPIRY);
    model.addSeeded("never", EXPIRY);
    model.record("twice", DUE + 10_000, DUE + 10_100);
    model.record("never", DUE + 10_000, DUE + 10_100);
    const check = model.check(
      new Map([
        ["twice", 2],
        ["never", 0],
      ]),
    );
    expect(check).toMatchObject({ expected: 2, actual: 2, usersWithExtra: 1, usersWithMissing: 1 });
  });

  it("expects the next refresh once the refreshed token falls due, from the expiry a read showed", () => {
    const model = new RefreshModel(LIFE_MS);
    model.addSeeded("a", EXPIRY);
    const refreshedAt = DUE + 10_000;
    model.record("a", refreshedAt, refreshedAt + 100, refreshedAt + LIFE_MS);
    model.record("a", refreshedAt + 200_000, refreshedAt + 200_100); // due at +210 s: not yet
    model.record("a", refreshedAt + 215_000, refreshedAt + 215_100);
    expect(model.check(new Map([["a", 2]]))).toMatchObject({ expected: 2, usersWithExtra: 0 });
  });

  it("leaves out a user whose operation straddled the due time", () => {
    const model = new RefreshModel(LIFE_MS);
    model.addSeeded("a", EXPIRY);
    model.record("a", DUE - 500, DUE + 500);
    expect(model.check(new Map([["a", 1]]))).toMatchObject({
      certainUsers: 0,
      uncertainUsers: 1,
      uncertainOverBound: 0,
    });
  });

  it("counts refreshes of users it does not follow apart", () => {
    const model = new RefreshModel(LIFE_MS);
    expect(model.check(new Map([["signed-in", 3]])).refreshesOfUntrackedUsers).toBe(3);
  });
});
