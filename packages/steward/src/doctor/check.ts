import type { Kysely } from "kysely";
import type pg from "pg";
import type { Config } from "../config/load.js";
import type { VaultSchema } from "../store/index.js";

/** What one check found: `ok`, `fail` (with what to do) or `skip` (it does not apply, and why). */
export interface CheckResult {
  readonly name: string;
  readonly status: "ok" | "fail" | "skip";
  /** What was found; never a secret. */
  readonly detail: string;
  /** What to do about a failure. */
  readonly advice?: string | undefined;
}

/** The database as the checks reach it: a small pool, never migrated. */
export interface DoctorDatabase {
  readonly pool: pg.Pool;
  readonly db: Kysely<VaultSchema>;
  /** The connection settings, for a connection of its own (LISTEN). */
  readonly settings: pg.ClientConfig;
}

/**
 * What the checks share, filled in as they run: the settings once valid, the database once
 * reached, the schema once found current, the answer of Google's token endpoint once probed.
 */
export interface DoctorContext {
  readonly env: NodeJS.ProcessEnv;
  config?: Config;
  database?: DoctorDatabase;
  schemaCurrent?: boolean;
  probe?: Promise<TokenProbe>;
}

/** What Google's token endpoint answered a request that spends nothing. */
export type TokenProbe =
  | {
      readonly reached: true;
      readonly tokenUrl: string;
      readonly status: number;
      readonly error: string | undefined;
      /** The `Date` header, and this machine's clock halfway through the request. */
      readonly date: string | null;
      readonly midpointMs: number;
    }
  | { readonly reached: false; readonly tokenUrl: string; readonly problem: string };

/** One check: reads the context (and may add to it), never changes the deployment. */
export type Check = (context: DoctorContext) => Promise<CheckResult>;

export const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail });
export const skip = (name: string, detail: string): CheckResult => ({
  name,
  status: "skip",
  detail,
});
export const fail = (name: string, detail: string, advice: string): CheckResult => ({
  name,
  status: "fail",
  detail,
  advice,
});

/** The message of whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
