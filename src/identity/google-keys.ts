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
  /** Do not re-fetch for an unknown `kid` more often than this. Default 30 000 ms. */
  cooldownMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
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
 * The fetching, cooldown and key selection are jose's; this adds the Cache-Control lifetime.
 */
export class GoogleKeys {
  private expiresAtMs = 0;
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private readonly now: () => number;

  constructor(jwksUrl: string, options: GoogleKeysOptions = {}) {
    this.now = options.now ?? Date.now;
    const fetchImpl = options.fetch ?? fetch;
    const fallbackMs = options.fallbackMaxAgeMs ?? 300_000;
    this.remote = createRemoteJWKSet(new URL(jwksUrl), {
      timeoutDuration: options.fetchTimeoutMs ?? 5000,
      cooldownDuration: options.cooldownMs ?? 30_000,
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
    if (this.remote.fresh && this.now() >= this.expiresAtMs && !this.remote.reloading) {
      await this.remote.reload();
    }
    return this.remote(header, token);
  };
}
