import { isStewardError } from "../errors.js";
import type { VaultStore } from "../store/index.js";

/** What the idle refresh needs of the token manager: its normal, single-flight refresh. */
export interface Refresher {
  refreshNow(sub: string): Promise<unknown>;
}

export interface IdleRefreshOptions {
  store: Pick<VaultStore, "listIdleCredentials">;
  tokens: Refresher;
  /** A grant not refreshed for this long is refreshed now (Google expires it at six months). */
  idleMs: number;
  /** Refreshes per minute at most, so a backlog (e.g. after an upgrade) never makes a storm. */
  perMinute: number;
  now?: () => number;
  logger?: { warn(fields: object, message: string): void };
}

/**
 * Keeps long-idle grants alive: Google expires a refresh token unused for six months, and a
 * user who has not needed Steward's token for that long would find their grant dead. One
 * refresh at a time, at most `perMinute`, through the token manager (locks, single flight).
 */
export class IdleRefresh {
  private timer: NodeJS.Timeout | undefined;
  private queue: string[] = [];
  private busy = false;
  private readonly now: () => number;

  constructor(private readonly options: IdleRefreshOptions) {
    if (!(options.perMinute > 0)) throw new TypeError("perMinute must be positive");
    this.now = options.now ?? Date.now;
  }

  /** Refreshes one idle grant every 60/perMinute seconds; the timer keeps no process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.step(), 60_000 / this.options.perMinute);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.queue = [];
  }

  /**
   * One step: refreshes the next idle grant, reading the next batch (a minute's worth) when the
   * queue is empty. Skipped while the previous step runs. Never rejects.
   *
   * @returns the sub refreshed (or tried), or undefined when none was idle.
   */
  async step(): Promise<string | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    try {
      if (this.queue.length === 0) {
        const before = new Date(this.now() - this.options.idleMs);
        this.queue = await this.options.store.listIdleCredentials(
          before,
          Math.ceil(this.options.perMinute),
        );
      }
      const sub = this.queue.shift();
      if (sub === undefined) return undefined;
      await this.options.tokens.refreshNow(sub);
      return sub;
    } catch (error) {
      // A dead grant is revoked and announced by the refresh itself; the rest is worth a line.
      if (
        !isStewardError(error, "credential_revoked") &&
        !isStewardError(error, "user_not_found")
      ) {
        this.options.logger?.warn(
          { code: isStewardError(error) ? error.code : "internal_error" },
          "idle refresh failed",
        );
      }
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
