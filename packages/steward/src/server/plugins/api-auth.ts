import { hash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { ApiKeyInfo, ApiKeyScope, ApiKeys } from "../../api-keys/index.js";
import { StewardError } from "../../errors.js";
import { LruCache } from "../../tokens/lru.js";
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
 * database on every request; a keep-alive connection also remembers the credential it last
 * presented, so its next requests skip even the hash.
 */
export class ApiAuth {
  private readonly verified = new LruCache<string, Trusted>(1000);
  private readonly byConnection = new WeakMap<object, ConnectionCredential>();
  /** Bumped by `forgetVerified`: what connections remember from before no longer counts. */
  private generation = 0;
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

  /** Whether STEWARD_ADMIN_TOKEN is set (admin API keys work either way). */
  get adminTokenConfigured(): boolean {
    return this.adminDigest !== undefined;
  }

  /** Forgets every verified key: the next request with any key asks the database again. */
  forgetVerified(): void {
    this.verified.clear();
    this.generation++;
  }

  /**
   * The caller, when it presents a credential holding `scope` (or `admin`). Not async: a
   * connection's repeated credential is answered at once (about 7% of the access-token route's
   * throughput, bench/tokens.bench.ts part b).
   * @throws StewardError `https_required`, `unauthenticated` (none, or not valid), `forbidden`
   *   (lacks the scope); synchronously or as a rejection.
   */
  require(request: FastifyRequest, scope: ApiKeyScope): Caller | Promise<Caller> {
    // A bearer key sent in clear off loopback is as good as published.
    requireHttps(request);
    const known = this.knownToConnection(request);
    if (known !== undefined) return withScope(known, scope);
    return this.authenticate(request).then((caller) => withScope(caller, scope));
  }

  /**
   * The caller presenting `secret` (an API key or STEWARD_ADMIN_TOKEN) some other way than the
   * bearer header: as the OAuth client secret at `/oauth2/token`. Same HTTPS rule, same
   * remembered verifications; what a connection remembers is left to the bearer header.
   * @throws StewardError `https_required`, `unauthenticated`, `forbidden`; as a rejection.
   */
  async requireSecret(
    request: FastifyRequest,
    secret: string,
    scope: ApiKeyScope,
  ): Promise<Caller> {
    requireHttps(request);
    return withScope((await this.verify(secret)).caller, scope);
  }

  private knownToConnection(request: FastifyRequest): Caller | undefined {
    const header = request.headers.authorization;
    const known = this.byConnection.get(request.raw.socket);
    if (header === undefined || known === undefined) return undefined;
    if (known.generation !== this.generation || known.untilMs <= this.now()) return undefined;
    // The header is compared in constant time: behind a proxy, one connection may carry the
    // requests of several callers.
    const presented = Buffer.from(header);
    return presented.length === known.presented.length &&
      timingSafeEqual(presented, known.presented)
      ? known.caller
      : undefined;
  }

  private async authenticate(request: FastifyRequest): Promise<Caller> {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match)
      throw new StewardError("unauthenticated", { message: "Send an API key as the bearer." });
    const generation = this.generation;
    const trusted = await this.verify(match[1] as string);
    // Until the key's own window ends, not a new one: a connection must not stretch the trust
    // in a key verified long ago.
    this.byConnection.set(request.raw.socket, {
      presented: Buffer.from(header),
      ...trusted,
      generation,
    });
    return trusted.caller;
  }

  private async verify(secret: string): Promise<Trusted> {
    const key = digest(secret);
    // Digests are compared, never the secrets: a timing difference tells nothing usable.
    if (key === this.adminDigest)
      return { caller: ADMIN, untilMs: this.now() + this.verifiedForMs };
    const remembered = this.verified.get(key);
    if (remembered && remembered.untilMs > this.now()) return remembered;
    const generation = this.generation;
    const info: ApiKeyInfo | undefined = await this.apiKeys.verify(secret);
    if (info === undefined)
      throw new StewardError("unauthenticated", { message: "This API key is not valid." });
    const trusted = {
      caller: { id: `api_key:${info.id}`, scopes: info.scopes },
      untilMs: this.now() + this.verifiedForMs,
    };
    // A revocation heard while the database answered may be this key's: believe the answer
    // for this request only.
    if (generation === this.generation) this.verified.set(key, trusted);
    return trusted;
  }
}

/** A caller, and until when it is believed without asking the database again. */
interface Trusted {
  caller: Caller;
  untilMs: number;
}

interface ConnectionCredential extends Trusted {
  /** The whole Authorization header the connection presented. */
  presented: Buffer;
  generation: number;
}

const ADMIN: Caller = Object.freeze({ id: "admin", scopes: Object.freeze(["admin"] as const) });

function withScope(caller: Caller, scope: ApiKeyScope): Caller {
  if (!caller.scopes.includes(scope) && !caller.scopes.includes("admin")) {
    throw new StewardError("forbidden", { detail: `caller ${caller.id} lacks ${scope}` });
  }
  return caller;
}

// One-shot, as text: a Hash object and a Buffer per request were most of this check's cost
// (bench/tokens.bench.ts, part b).
function digest(value: string): string {
  return hash("sha256", value, "base64");
}
