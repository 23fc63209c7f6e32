// What the soak expects of refreshes, user by user. Steward refreshes a user's token on the first
// access once it is due (`refreshAheadAt`: the expiry less min(5 min, half the token's life));
// a due token is refreshed once, however many callers and instances ask for it at once. The
// model keeps, per user, the window in which the next due time lies and counts each operation
// that surely came after it (one refresh expected) or surely before (none). An operation that
// may have straddled it makes the user "uncertain": left out of the exact count from then on.

/** Steward's TokenManager default (packages/steward/src/tokens/token-manager.ts). */
const REFRESH_AHEAD_MS = 300_000;
/** Clock reads of two processes and the time a request takes to reach the handler. */
const MARGIN_MS = 1_500;
/** A refresh ahead of expiry runs after the answer: it has finished within this. */
const BACKGROUND_MS = 5_000;

interface UserState {
  dueLo: number;
  dueHi: number;
  /** The latest expiry a token read showed. */
  knownExpiryMs: number;
  expected: number;
  uncertain: boolean;
  /** Operations after the first due time, an upper bound on refreshes for an uncertain user. */
  opsAfterDue: number;
}

export class RefreshModel {
  private readonly users = new Map<string, UserState>();
  private expectedTotal = 0;

  /** `tokenLifeMs`: what the emulator issues (its `accessTokenTtlSeconds`). */
  constructor(private readonly tokenLifeMs: number) {}

  /** A seeded user whose stored token expires at `expiresAtMs` (never refreshed: full window). */
  addSeeded(sub: string, expiresAtMs: number): void {
    const due = expiresAtMs - REFRESH_AHEAD_MS;
    this.users.set(sub, {
      dueLo: due,
      dueHi: due,
      knownExpiryMs: expiresAtMs,
      expected: 0,
      uncertain: false,
      opsAfterDue: 0,
    });
  }

  /**
   * One operation on `sub`, sent at `sentMs` and answered at `doneMs` (no other operation on
   * the user overlapped it). `expiresAtMs`: the expiry a token read answered, if it was one.
   */
  record(sub: string, sentMs: number, doneMs: number, expiresAtMs?: number): void {
    const user = this.users.get(sub);
    if (user === undefined) return;
    if (sentMs > user.dueLo - MARGIN_MS) user.opsAfterDue++;
    if (!user.uncertain) {
      if (sentMs > user.dueHi + MARGIN_MS) {
        user.expected++;
        this.expectedTotal++;
        const ahead = this.aheadMs();
        user.dueLo = sentMs + this.tokenLifeMs - ahead;
        user.dueHi = doneMs + BACKGROUND_MS + this.tokenLifeMs - ahead;
      } else if (doneMs >= user.dueLo - MARGIN_MS) {
        user.uncertain = true;
      }
    }
    // A token read that answers a newer token pins the due time exactly.
    if (expiresAtMs !== undefined && expiresAtMs > user.knownExpiryMs + 1_000) {
      user.knownExpiryMs = expiresAtMs;
      if (!user.uncertain) {
        user.dueLo = expiresAtMs - this.aheadMs();
        user.dueHi = user.dueLo;
      }
    }
  }

  /** Refreshes expected so far among certain users (for each minute's rough ratio). */
  get expected(): number {
    return this.expectedTotal;
  }

  /** Compares with the emulator's refresh grants per user (after the load has drained). */
  check(refreshesBySub: ReadonlyMap<string, number>): RefreshCheck {
    const check: RefreshCheck = {
      certainUsers: 0,
      uncertainUsers: 0,
      expected: 0,
      actual: 0,
      usersWithExtra: 0,
      usersWithMissing: 0,
      uncertainOverBound: 0,
      refreshesOfUntrackedUsers: 0,
    };
    for (const [sub, user] of this.users) {
      const actual = refreshesBySub.get(sub) ?? 0;
      if (user.uncertain) {
        check.uncertainUsers++;
        if (actual > user.opsAfterDue) check.uncertainOverBound++;
        continue;
      }
      check.certainUsers++;
      check.expected += user.expected;
      check.actual += actual;
      if (actual > user.expected) check.usersWithExtra++;
      if (actual < user.expected) check.usersWithMissing++;
    }
    for (const [sub, count] of refreshesBySub)
      if (!this.users.has(sub)) check.refreshesOfUntrackedUsers += count;
    return check;
  }

  private aheadMs(): number {
    return Math.min(REFRESH_AHEAD_MS, this.tokenLifeMs / 2);
  }
}

export interface RefreshCheck {
  /** Users whose every operation fell clearly before or after a due time. */
  certainUsers: number;
  uncertainUsers: number;
  /** Among certain users: refreshes the model expects, and the emulator's count. */
  expected: number;
  actual: number;
  /** Certain users refreshed more often than expected (a second refresh of one expiry). */
  usersWithExtra: number;
  usersWithMissing: number;
  /** Uncertain users refreshed more often than they were asked after their first due time. */
  uncertainOverBound: number;
  /** Refresh grants of users the model does not follow (users who signed in during the run). */
  refreshesOfUntrackedUsers: number;
}
