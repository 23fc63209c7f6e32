import {
  createRemoteJWKSet,
  customFetch,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from "jose";
import { StewardError } from "../errors.js";

export interface GoogleKeysOptions {
  /** Abort a key fetch after this long. Default 5000 ms. */
  fetchTimeoutMs?: number;
  /** Cache lifetime when the response has no usable `Cache-Control: max-age`. Default 300 000 ms. */
  fallbackMaxAgeMs?: number;
  /**
   * Do not re-fetch for an unknown `kid` more often than this, nor re-try a failed re-fetch of an
   * expired key set sooner than this. Default 30 000 ms.
   */
  cooldownMs?: number;
  /**
   * When re-fetching an expired key set fails (Google's endpoint down or slow), keep verifying
   * with the cached keys for this long past their expiry, as HTTP's `stale-if-error` does.
   * Google lists a key for days, so a cached one outlives a short outage. Default 21 600 000 ms (6 h).
   */
  staleIfErrorMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Told (URL and reason, nothing secret) when a failed re-fetch leaves the cached keys in use. */
  logger?: { warn(fields: object, message: string): void };
}

/** Parses `max-age=N` (seconds) out of a Cache-Control header. */
export function maxAgeMs(cacheControl: string | null): number | undefined {
  const match = cacheControl === null ? null : /(?:^|[,\s])max-age=(\d+)/i.exec(cacheControl);
  return match ? Number(match[1]) * 1000 : undefined;
}

/**
 * Google's ID-token signing keys from a JWKS URL: cached for as long as the response's
 * `Cache-Control: max-age` says (Google rotates keys and says so there), fetched with a timeout,
 * and re-fetched once when a token names an unknown `kid` (a rotation we have not seen yet).
 * When the re-fetch of an expired set fails, the cached keys stay in use for `staleIfErrorMs`,
 * with one attempt per `cooldownMs`; a `kid` they lack still fails.
 * The fetching, cooldown and key selection are jose's; this adds the Cache-Control lifetime
 * and the stale-if-error grace.
 */
export class GoogleKeys {
  /** When the cached set goes stale, per the Cache-Control of the response that brought it. */
  private expiresAtMs = 0;
  /** No re-fetch of a stale set before this: set by a failed one. */
  private retryAtMs = 0;
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private readonly now: () => number;
  private readonly cooldownMs: number;
  private readonly staleIfErrorMs: number;
  private readonly logger: GoogleKeysOptions["logger"];

  constructor(
    private readonly jwksUrl: string,
    options: GoogleKeysOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 21_600_000;
    this.logger = options.logger;
    const fetchImpl = options.fetch ?? fetch;
    const fallbackMs = options.fallbackMaxAgeMs ?? 300_000;
    this.remote = createRemoteJWKSet(new URL(jwksUrl), {
      timeoutDuration: options.fetchTimeoutMs ?? 5000,
      cooldownDuration: this.cooldownMs,
      cacheMaxAge: Number.POSITIVE_INFINITY,
      [customFetch]: async (url, init) => {
        const response = await fetchImpl(url, init);
        if (!response.ok) {
          throw new StewardError("upstream_unavailable", {
            detail: `Google's keys answered HTTP ${response.status}`,
          });
        }
        this.expiresAtMs =
          this.now() + (maxAgeMs(response.headers.get("cache-control")) ?? fallbackMs);
        return response;
      },
    });
  }

  /** The key resolver for jose's `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ) => {
    if (this.remote.fresh && this.now() >= this.expiresAtMs) await this.revalidate();
    return this.remote(header, token);
  };

  /**
   * Re-fetches an expired key set. Within the grace, a failure keeps the cached set and the next
   * attempt waits for the cooldown (every verification would otherwise wait on a dead endpoint);
   * past the grace, it fails as a first fetch does.
   */
  private async revalidate(): Promise<void> {
    const servable = this.now() < this.expiresAtMs + this.staleIfErrorMs;
    if (servable && (this.remote.reloading || this.now() < this.retryAtMs)) return;
    try {
      await this.remote.reload();
    } catch (error) {
      this.retryAtMs = this.now() + this.cooldownMs;
      if (!servable) throw error;
      this.logger?.warn(
        {
          jwksUrl: this.jwksUrl,
          reason: error instanceof StewardError ? error.detail : (error as Error).name,
          staleForMs: this.now() - this.expiresAtMs,
          retryInMs: this.cooldownMs,
        },
        "Google's keys could not be re-fetched; verifying with the cached ones",
      );
    }
  }
}
