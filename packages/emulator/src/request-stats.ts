/** The emulator's counters for tests: requests per path, grants per type and per user. */
export interface StatsSnapshot {
  requests: Record<string, number>;
  grants: Record<string, number>;
  grantsBySub: Record<string, Record<string, number>>;
}

/** Request and grant counters; not persisted, reset by `DELETE /emulator/stats`. */
export class RequestStats {
  private requests = new Map<string, number>();
  private grants = new Map<string, number>();
  private grantsBySub = new Map<string, Map<string, number>>();

  countRequest(path: string): void {
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
  }

  countGrant(grantType: string, sub: string): void {
    this.grants.set(grantType, (this.grants.get(grantType) ?? 0) + 1);
    let bySub = this.grantsBySub.get(sub);
    if (bySub === undefined) {
      bySub = new Map();
      this.grantsBySub.set(sub, bySub);
    }
    bySub.set(grantType, (bySub.get(grantType) ?? 0) + 1);
  }

  snapshot(): StatsSnapshot {
    return {
      requests: Object.fromEntries(this.requests),
      grants: Object.fromEntries(this.grants),
      grantsBySub: Object.fromEntries(
        [...this.grantsBySub].map(([sub, counts]) => [sub, Object.fromEntries(counts)]),
      ),
    };
  }

  reset(): void {
    this.requests = new Map();
    this.grants = new Map();
    this.grantsBySub = new Map();
  }
}
