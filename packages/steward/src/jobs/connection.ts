import type { Database } from "../store/index.js";

/**
 * The connection string pg-boss gets for Steward's PostgreSQL: `DATABASE_URL` when set, else the
 * embedded server's own settings (loopback only; its password is generated per data dir).
 *
 * @throws TypeError when neither is there (a vault opened without a database URL or server).
 * @example
 *   const jobs = await createJobs({ connectionString: jobsConnectionString(config.databaseUrl, vault.database), ... });
 */
export function jobsConnectionString(databaseUrl: string | undefined, database: Database): string {
  if (databaseUrl !== undefined && databaseUrl.trim() !== "") return databaseUrl;
  const settings = database.embedded?.connection();
  if (settings === undefined) throw new TypeError("jobs: no DATABASE_URL and no embedded server");
  const user = encodeURIComponent(settings.user);
  const password = encodeURIComponent(settings.password);
  return `postgres://${user}:${password}@${settings.host}:${settings.port}/${encodeURIComponent(settings.database)}`;
}
