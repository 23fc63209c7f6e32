import { compactVerify, errors as joseErrors } from "jose";
import { isStewardError, StewardError } from "../errors.js";
import {
  parseRiscConfiguration,
  parseSecurityEventToken,
  type RiscConfiguration,
  type SecurityEventToken,
} from "../google/security-event.js";
import { GoogleKeys, maxAgeMs } from "../identity/google-keys.js";

export interface SecurityEventVerifierOptions {
  /** Abort a fetch of the discovery document or the keys after this long. Default 5000 ms. */
  fetchTimeoutMs?: number;
  /** Discovery document lifetime when its response has no `Cache-Control: max-age`. Default 3 600 000 ms. */
  configurationMaxAgeMs?: number;
  /**
   * No new attempt to fetch the discovery document sooner than this after a failed one (the
   * cached document stays in use meanwhile), nor to re-fetch keys for an unknown `kid` (jose's
   * cooldown). Default 30 000 ms.
   */
  cooldownMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Told (URL and reason, nothing secret) when a cached document or key set outlives a failure. */
  logger?: { warn(fields: object, message: string): void };
}

interface Discovered {
  readonly configuration: RiscConfiguration;
  readonly keys: GoogleKeys;
  readonly expiresAtMs: number;
}

/**
 * Verifies Google's security event tokens (RISC) as Google asks: `issuer` and `jwks_uri` from
 * the RISC discovery document (cached per its Cache-Control), the key named by `kid` from that
 * JWKS (re-fetched once for an unknown kid, within the cooldown), an RS256 signature, `iss`
 * equal to the discovery issuer, `aud` one of our client IDs, and no `exp` check (a SET tells
 * of a past event).
 *
 * @example
 *   const verifier = new SecurityEventVerifier(endpoints.riscConfigurationUrl, clientIds);
 *   const set = await verifier.verify(body);
 */
export class SecurityEventVerifier {
  #discovered: Discovered | undefined;
  #fetching: Promise<Discovered> | undefined;
  #retryAtMs = 0;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #fallbackMs: number;
  readonly #cooldownMs: number;
  readonly #logger: SecurityEventVerifierOptions["logger"];
  readonly #audiences: ReadonlySet<string>;

  /** @throws TypeError when no audience is given. */
  constructor(
    private readonly configurationUrl: string,
    audiences: readonly string[],
    private readonly options: SecurityEventVerifierOptions = {},
  ) {
    if (audiences.length === 0) throw new TypeError("audiences must name at least one client ID");
    this.#audiences = new Set(audiences);
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.fetchTimeoutMs ?? 5000;
    this.#fallbackMs = options.configurationMaxAgeMs ?? 3_600_000;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#logger = options.logger;
  }

  /**
   * @throws StewardError `security_event_invalid` (400) for a malformed token, an unknown kid, an
   *   algorithm other than RS256, a bad signature, issuer or audience; the detail names the rule.
   * @throws StewardError `upstream_unavailable` or `upstream_rejected` (502) when the discovery
   *   document or the keys cannot be had: the sender should deliver again later.
   */
  async verify(token: string): Promise<SecurityEventToken> {
    const { configuration, keys } = await this.#discovery();
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(token, keys.getKey, { algorithms: ["RS256"] }));
    } catch (error) {
      throw translate(error);
    }
    let claims: unknown;
    try {
      claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
    } catch {
      throw invalid("the payload is not JSON");
    }
    if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
      throw invalid("the payload is not a JSON object");
    }
    const { iss, aud } = claims as Record<string, unknown>;
    if (iss !== configuration.issuer) throw invalid("iss is not the discovery document's issuer");
    const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.some((value) => typeof value === "string" && this.#audiences.has(value))) {
      throw invalid("aud is not one of our client IDs");
    }
    return parseSecurityEventToken(claims as Record<string, unknown>);
  }

  /** The cached discovery, refreshed when stale; a failed refresh keeps the cached one. */
  async #discovery(): Promise<Discovered> {
    const cached = this.#discovered;
    const now = this.#now();
    if (cached !== undefined && (now < cached.expiresAtMs || now < this.#retryAtMs)) return cached;
    // Never had one, and the last attempt failed: each SET must not cost Google another request.
    if (cached === undefined && now < this.#retryAtMs) {
      throw new StewardError("upstream_unavailable", {
        detail: "the RISC discovery document could not be fetched; next attempt after the cooldown",
      });
    }
    this.#fetching ??= this.#fetchDiscovery().finally(() => {
      this.#fetching = undefined;
    });
    try {
      return await this.#fetching;
    } catch (error) {
      this.#retryAtMs = this.#now() + this.#cooldownMs;
      if (cached === undefined) throw error;
      this.#logger?.warn(
        {
          configurationUrl: this.configurationUrl,
          reason: isStewardError(error) ? error.detail : (error as Error).name,
          retryInMs: this.#cooldownMs,
        },
        "the RISC discovery document could not be re-fetched; using the cached one",
      );
      return cached;
    }
  }

  async #fetchDiscovery(): Promise<Discovered> {
    let response: Response;
    try {
      response = await this.#fetch(this.configurationUrl, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new StewardError("upstream_unavailable", {
        detail: "the RISC discovery document could not be fetched",
        cause: error,
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new StewardError("upstream_unavailable", {
        detail: `the RISC discovery document answered HTTP ${response.status}`,
      });
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw new StewardError("upstream_rejected", {
        detail: "the RISC discovery document is not JSON",
        cause: error,
      });
    }
    const configuration = parseRiscConfiguration(json);
    const previous = this.#discovered;
    // Keep the key set (and its cache) while the document names the same one.
    const keys =
      previous?.configuration.jwksUri === configuration.jwksUri
        ? previous.keys
        : new GoogleKeys(configuration.jwksUri, {
            fetchTimeoutMs: this.#timeoutMs,
            cooldownMs: this.#cooldownMs,
            fetch: this.options.fetch,
            now: this.options.now,
            logger: this.#logger,
          });
    const lifetimeMs = maxAgeMs(response.headers.get("cache-control")) ?? this.#fallbackMs;
    this.#discovered = { configuration, keys, expiresAtMs: this.#now() + lifetimeMs };
    return this.#discovered;
  }
}

/** jose's failures as ours: the token's faults are 400, the keys' fetching is 502. */
function translate(error: unknown): StewardError {
  if (isStewardError(error)) return error;
  if (error instanceof joseErrors.JWKSNoMatchingKey) return invalid("no published key has its kid");
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return invalid("the signature does not verify");
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported)
    return invalid("the algorithm is not RS256");
  if (error instanceof joseErrors.JWSInvalid) return invalid("the token is not a compact JWS");
  if (error instanceof joseErrors.JWKSTimeout) {
    return new StewardError("upstream_unavailable", {
      detail: "Google's RISC keys timed out",
      cause: error,
    });
  }
  if (error instanceof joseErrors.JOSEError) {
    return new StewardError("upstream_rejected", {
      detail: `Google's RISC keys are unusable (${error.code})`,
      cause: error,
    });
  }
  return new StewardError("upstream_unavailable", {
    detail: "Google's RISC keys could not be fetched",
    cause: error,
  });
}

function invalid(detail: string): StewardError {
  return new StewardError("security_event_invalid", { detail });
}
