import { googleToken } from "./google-token.js";
import type { AccessTokenRecord, EmulatorSettings } from "./model.js";

/** Access tokens are swept for dead ones once this many are held. */
const SWEEP_THRESHOLD = 50_000;

/**
 * Issued access tokens (`ya29.…`). One is live until it expires or its grant says otherwise
 * (`granted`: the grant revoked since, or its refresh token dead); a dead one is dropped.
 */
export class AccessTokens {
  private readonly records = new Map<string, AccessTokenRecord>();
  private nextSweepAt = SWEEP_THRESHOLD;

  constructor(
    private readonly now: () => number,
    private readonly settings: EmulatorSettings,
    private readonly granted: (record: AccessTokenRecord) => boolean,
  ) {}

  issue(
    sub: string,
    clientId: string,
    scopes: readonly string[],
    refreshToken: string | undefined,
    epoch: number,
  ): { accessToken: string; expiresIn: number } {
    const expiresIn = this.settings.accessTokenTtlSeconds;
    const accessToken = googleToken("ya29.a0", 120);
    this.records.set(accessToken, {
      sub,
      clientId,
      scopes: [...scopes],
      expiresAtMs: this.now() + expiresIn * 1000,
      refreshToken,
      epoch,
    });
    if (this.records.size >= this.nextSweepAt) this.sweep();
    return { accessToken, expiresIn };
  }

  /** A valid access token's record: unexpired, its refresh token alive, its grant not revoked since. */
  live(accessToken: string): AccessTokenRecord | undefined {
    const record = this.records.get(accessToken);
    if (record === undefined) return undefined;
    if (record.expiresAtMs <= this.now() || !this.granted(record)) {
      this.records.delete(accessToken);
      return undefined;
    }
    return record;
  }

  /** The unexpired tokens, as a persisted emulator saves them. */
  export(nowMs: number): Array<[string, AccessTokenRecord]> {
    return [...this.records].filter(([, record]) => record.expiresAtMs > nowMs);
  }

  import(entries: ReadonlyArray<[string, AccessTokenRecord]>): void {
    this.records.clear();
    for (const [token, record] of entries) this.records.set(token, record);
  }

  /** Drops dead access tokens; amortized: the next sweep waits until the map has doubled. */
  private sweep(): void {
    for (const value of this.records.keys()) this.live(value);
    this.nextSweepAt = Math.max(SWEEP_THRESHOLD, this.records.size * 2);
  }
}
