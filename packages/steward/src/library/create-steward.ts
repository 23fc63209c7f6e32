import type { OAuth2Client } from "google-auth-library";
import pino from "pino";
import { authClient } from "../access/auth-client.js";
import { type FetchAsOptions, fetchAs } from "../access/fetch-as.js";
import { revokeGrant } from "../access/revoke.js";
import { type Config, loadConfig } from "../config/load.js";
import { openCore } from "../core/open-core.js";
import type { StewardEventHandler, StewardEventName } from "../events/bus.js";
import { startEmulatorPackage } from "../google/emulator-package.js";
import { atApiBase } from "../google/endpoints.js";
import { createJobs, type Jobs, jobsConnectionString, jobsLogger } from "../jobs/index.js";
import type { VaultLogger } from "../shared/index.js";
import type { AccessToken, AccessTokenOptions } from "../tokens/token-manager.js";

export interface StewardOptions {
  /** A loaded config; by default the environment is read as the service reads it. */
  config?: Config;
  env?: NodeJS.ProcessEnv;
  /** pino, or anything with debug/info/warn/error; silent by default. */
  logger?: VaultLogger;
}

/** Steward as a library, for backend code and jobs in the same process. */
export interface Steward {
  /**
   * A fresh access token for the user, valid for at least `minValidityMs` (60 s by default).
   * @throws StewardError `user_not_found`, `credential_revoked`, `scope_not_granted`,
   *   `client_rejected`, `upstream_unavailable`.
   */
  accessToken(sub: string, options?: AccessTokenOptions): Promise<AccessToken>;
  /** An `OAuth2Client` for the official `@googleapis/*` clients, acting as the user. */
  authClient(sub: string): OAuth2Client;
  /** `fetch` to a Google API as the user, with refresh-and-retry and backoff. */
  fetchAs(
    sub: string,
    url: string | URL,
    init?: RequestInit,
    options?: FetchAsOptions,
  ): Promise<Response>;
  /** Revokes the user's grant at Google, then forgets the tokens. */
  revoke(sub: string): Promise<{ revokedAtGoogle: boolean }>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends StewardEventName>(event: E, handler: StewardEventHandler<E>): () => void;
  /** Background jobs for users; this process works them only after `jobs.startWorkers()`. */
  readonly jobs: Jobs;
  close(): Promise<void>;
}

/**
 * Opens Steward in this process: the vault (embedded PostgreSQL unless `DATABASE_URL` is set),
 * the token manager and, in emulator mode (no Google client configured), a local emulator from
 * the `@steward/emulator` package.
 *
 * @throws StewardError `config_invalid`, `keys_invalid`, `key_missing`, `database_unavailable`,
 *   `data_dir_locked`, `emulator_not_installed`.
 * @example
 *   const steward = await createSteward();
 *   const res = await steward.fetchAs(sub, "https://www.googleapis.com/drive/v3/files?spaces=appDataFolder");
 */
export async function createSteward(options: StewardOptions = {}): Promise<Steward> {
  const config = options.config ?? loadConfig(options.env ?? process.env);
  const logger = options.logger ?? pino({ level: "silent" });
  const core = await openCore(config, {
    logger,
    purpose: "steward library",
    startEmulator: startEmulatorPackage,
  });
  const { tokens, endpoints } = core;
  const jobs = await createJobs({
    connectionString: jobsConnectionString(config.databaseUrl, core.vault.database),
    tokens,
    endpoints,
    store: core.vault.store,
    logger: jobsLogger(logger),
  }).catch(async (error: unknown) => {
    await core.close();
    throw error;
  });
  return {
    accessToken: (sub, accessOptions) => tokens.accessToken(sub, accessOptions),
    authClient: (sub) => authClient(tokens, sub),
    fetchAs: (sub, url, init, fetchOptions) =>
      fetchAs(tokens, endpoints.isApiUrl, sub, atApiBase(endpoints, url), init, fetchOptions),
    revoke: (sub) =>
      revokeGrant({ ...core, store: core.vault.store }, sub, {
        reason: "revoked_by_app",
        actor: "app",
      }),
    on: (event, handler) => core.events.on(event, handler),
    jobs,
    close: async () => {
      await jobs.stop();
      await core.close();
    },
  };
}
