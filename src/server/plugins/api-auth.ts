import { hash } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { StewardError } from "../../errors.js";
import { LruCache } from "../../tokens/lru.js";
import type { ApiKeyInfo, ApiKeyScope, ApiKeys } from "../../vault/api-keys.js";
import { requireHttps } from "./guards.js";

/** Who called the internal API: an API key's id, or `admin` for STEWARD_ADMIN_TOKEN. */
export interface Caller {
  readonly id: string;
  readonly scopes: readonly ApiKeyScope[];
}

export interface ApiAuthOptions {
  /**
   * A verified API key is trusted this long before the database is asked again. A revocation
   * makes the service forget verified keys at once (see `forgetVerified`); this bounds how long
   * a revoked key works when that news is lost (the LISTEN connection down). Default 30,000 ms.
   */
  verifiedForMs?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * Authenticates the internal API: `Authorization: Bearer <API key or STEWARD_ADMIN_TOKEN>`.
 * Verified keys are remembered briefly (by the key's hash) so a hot route does not hit the
 * database on every request.
 */
export class ApiAuth {
  private readonly verified = new LruCache<string, { caller: Caller; untilMs: number }>(1000);
  private readonly adminDigest: string | undefined;
  private readonly verifiedForMs: number;
  private readonly now: () => number;

  constructor(
    private readonly apiKeys: ApiKeys,
    adminToken: string | undefined,
    options: ApiAuthOptions = {},
  ) {
    this.adminDigest = adminToken === undefined ? undefined : digest(adminToken);
    this.verifiedForMs = options.verifiedForMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Forgets every verified key: the next request with any key asks the database again. */
  forgetVerified(): void {
    this.verified.clear();
  }

  /**
   * The caller, when it presents a credential holding `scope` (or `admin`).
   * @throws StewardError `https_required`, `unauthenticated` (none, or not valid), `forbidden`
   *   (lacks the scope).
   */
  async require(request: FastifyRequest, scope: ApiKeyScope): Promise<Caller> {
    // A bearer key sent in clear off loopback is as good as published.
    requireHttps(request);
    const caller = await this.authenticate(request);
    if (!caller.scopes.includes(scope) && !caller.scopes.includes("admin")) {
      throw new StewardError("forbidden", { detail: `caller ${caller.id} lacks ${scope}` });
    }
    return caller;
  }

  private async authenticate(request: FastifyRequest): Promise<Caller> {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
    if (!match)
      throw new StewardError("unauthenticated", { message: "Send an API key as the bearer." });
    const key = digest(match[1] as string);
    // Digests are compared, never the secrets: a timing difference tells nothing usable.
    if (key === this.adminDigest) return ADMIN;
    const remembered = this.verified.get(key);
    if (remembered && remembered.untilMs > this.now()) return remembered.caller;
    const info: ApiKeyInfo | undefined = await this.apiKeys.verify(match[1] as string);
    if (info === undefined)
      throw new StewardError("unauthenticated", { message: "This API key is not valid." });
    const caller = { id: `api_key:${info.id}`, scopes: info.scopes };
    this.verified.set(key, { caller, untilMs: this.now() + this.verifiedForMs });
    return caller;
  }
}

const ADMIN: Caller = Object.freeze({ id: "admin", scopes: Object.freeze(["admin"] as const) });

// One-shot, as text: a Hash object and a Buffer per request were most of this check's cost
// (bench/tokens.bench.ts, part b).
function digest(value: string): string {
  return hash("sha256", value, "base64");
}
