import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Kysely, sql } from "kysely";
import { StewardError } from "../errors.js";
import type { VaultSchema } from "../store/index.js";

/** The `NOTIFY` channel of key revocations (see {@link ApiKeys.revoke}). */
export const API_KEY_REVOKED_CHANNEL = "steward_api_key_revoked";

/** What an API key may do. `admin` may do everything. */
export const API_KEY_SCOPES = ["tokens:read", "proxy", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** `stw_<id>_<secret>`: the id finds the row, the secret is checked against its SHA-256. */
const KEY_SHAPE = /^stw_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

const hash = (secret: string) => createHash("sha256").update(secret).digest();

/**
 * API keys for the internal API, stored hashed: the key itself is shown once, at creation, and
 * never stored. Verification is one primary-key lookup and a timing-safe compare.
 */
export class ApiKeys {
  constructor(private readonly db: Kysely<VaultSchema>) {}

  /**
   * @returns the key's info and the key itself (show it once; it cannot be recovered).
   * @throws TypeError on an unknown scope or an empty name (a caller's mistake).
   */
  async create(
    name: string,
    scopes: readonly ApiKeyScope[],
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    if (name.trim() === "") throw new TypeError("an API key needs a name");
    const unknown = scopes.filter((scope) => !API_KEY_SCOPES.includes(scope));
    if (scopes.length === 0 || unknown.length > 0) {
      throw new TypeError(`API key scopes are ${API_KEY_SCOPES.join(", ")}`);
    }
    const id = randomBytes(10).toString("hex").slice(0, 16);
    const secret = randomBytes(32).toString("base64url");
    const row = await this.db
      .insertInto("api_keys")
      .values({ id, name, secret_hash: hash(secret), scopes: [...new Set(scopes)] })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { key: `stw_${id}_${secret}`, info: infoOf(row) };
  }

  /** The key's info when `presented` is a live key; undefined otherwise (never says why). */
  async verify(presented: string): Promise<ApiKeyInfo | undefined> {
    const match = KEY_SHAPE.exec(presented);
    if (!match) return undefined;
    const row = await this.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", match[1] as string)
      .executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) return undefined;
    const given = hash(match[2] as string);
    if (given.length !== row.secret_hash.length || !timingSafeEqual(given, row.secret_hash))
      return undefined;
    // Note the use at most once a minute, so a busy key does not write on every request.
    await sql`UPDATE api_keys SET last_used_at = now()
      WHERE id = ${row.id} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`.execute(
      this.db,
    );
    return infoOf(row);
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.db.selectFrom("api_keys").selectAll().orderBy("created_at").execute();
    return rows.map(infoOf);
  }

  /**
   * Revokes a key for good, and tells every running service (a `NOTIFY` on
   * {@link API_KEY_REVOKED_CHANNEL}, sent when the revocation commits) to forget the keys it
   * had verified.
   * @throws StewardError `api_key_not_found`
   */
  async revoke(id: string): Promise<void> {
    const { rows } = await sql<{ id: string }>`
      WITH revoked AS (
        UPDATE api_keys SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL RETURNING id
      )
      SELECT id, pg_notify(${API_KEY_REVOKED_CHANNEL}, '') FROM revoked`.execute(this.db);
    if (rows.length === 0) throw new StewardError("api_key_not_found");
  }
}

function infoOf(row: {
  id: string;
  name: string;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as ApiKeyScope[],
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
