import { createHash, timingSafeEqual } from "node:crypto";
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

/** A verified key is trusted this long before it is checked again (a revocation elsewhere takes at most this). */
const VERIFIED_FOR_MS = 30_000;

/**
 * Authenticates the internal API: `Authorization: Bearer <API key or STEWARD_ADMIN_TOKEN>`.
 * Verified keys are remembered briefly (by the key's hash) so a hot route does not hit the
 * database on every request.
 */
export class ApiAuth {
  private readonly verified = new LruCache<string, { caller: Caller; untilMs: number }>(1000);
  private readonly adminHash: Buffer | undefined;

  constructor(
    private readonly apiKeys: ApiKeys,
    adminToken: string | undefined,
  ) {
    this.adminHash = adminToken === undefined ? undefined : digest(adminToken);
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

  /** Forget what was verified (after a revocation in this process). */
  forgetVerified(): void {
    this.verified.clear();
  }

  private async authenticate(request: FastifyRequest): Promise<Caller> {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
    if (!match)
      throw new StewardError("unauthenticated", { message: "Send an API key as the bearer." });
    const presented = digest(match[1] as string);
    if (this.adminHash && timingSafeEqual(presented, this.adminHash))
      return { id: "admin", scopes: ["admin"] };
    const key = presented.toString("base64");
    const remembered = this.verified.get(key);
    if (remembered && remembered.untilMs > Date.now()) return remembered.caller;
    const info: ApiKeyInfo | undefined = await this.apiKeys.verify(match[1] as string);
    if (info === undefined)
      throw new StewardError("unauthenticated", { message: "This API key is not valid." });
    const caller = { id: `api_key:${info.id}`, scopes: info.scopes };
    this.verified.set(key, { caller, untilMs: Date.now() + VERIFIED_FOR_MS });
    return caller;
  }
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
