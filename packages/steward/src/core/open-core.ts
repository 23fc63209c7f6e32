import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Config } from "../config/load.js";
import { loadKeyring } from "../crypto/keyring-source.js";
import { dataDirOwner } from "../embedded-postgres/data-dir-lock.js";
import { locked } from "../embedded-postgres/embedded-postgres.js";
import { EventBus } from "../events/bus.js";
import { startWebhooks } from "../events/webhooks.js";
import type { GoogleClient } from "../google/client-secret.js";
import { emulatorEndpoints, GOOGLE_ENDPOINTS, type GoogleEndpoints } from "../google/endpoints.js";
import type { LocalGoogle, StartLocalGoogle } from "../google/local-google.js";
import { GoogleKeys } from "../identity/google-keys.js";
import type { IdTokenRules } from "../identity/verify-id-token.js";
import { createOAuthClient, type OAuthClient } from "../oauth/client.js";
import type { VaultLogger } from "../shared/logger.js";
import { CREDENTIAL_REVOKED_CHANNEL } from "../store/credential-batch.js";
import { TokenManager } from "../tokens/token-manager.js";
import { openVault, type Vault } from "../vault/vault.js";

/** Where in `STEWARD_DATA_DIR` the in-process emulator keeps its state across restarts. */
export const EMULATOR_STATE_DIR = "emulator";

/** The client ID of the in-process emulator's web client; stable, so stored `aud`s stay valid. */
export const EMULATOR_CLIENT_ID = "000000000000-steward-local-emulator.apps.googleusercontent.com";

export interface CoreOptions {
  logger: VaultLogger;
  /**
   * How to start the in-process emulator; required in emulator mode (`config.google.mode` is
   * `"emulator"`), never called otherwise. The service and the library pass
   * `startEmulatorPackage` (google/emulator-package.ts), which loads `@steward/emulator`; CLI
   * commands beside a service attach to its emulator instead (cli/core.ts).
   */
  startEmulator?: StartLocalGoogle;
  /** Port of the in-process emulator (emulator mode only). 0 picks a free one. Default 9099. */
  emulatorPort?: number;
  /** Web origin of a page we serve that signs users in (registered on the in-process emulator). */
  appOrigin?: string;
  /** Give up on a call to Google's token endpoint after this long. Default 10 s. */
  googleTimeoutSeconds?: number;
  /** What this process is, for a second one on the same data dir, e.g. `steward serve`. */
  purpose: string;
  /**
   * For CLI commands beside a running service: attach to its embedded PostgreSQL and use the
   * key it generated, never create either.
   */
  attach?: boolean;
}

/** Everything below the HTTP layer, opened from a Config: shared by the service and the library. */
export interface Core {
  readonly vault: Vault;
  readonly oauth: OAuthClient;
  readonly tokens: TokenManager;
  readonly events: EventBus;
  readonly endpoints: GoogleEndpoints;
  readonly client: GoogleClient;
  readonly idTokenRules: IdTokenRules;
  /** The in-process emulator, in emulator mode. */
  readonly emulator: LocalGoogle | undefined;
  /** True unless talking to Google itself. */
  readonly emulated: boolean;
  close(): Promise<void>;
}

/**
 * Opens the core: the local emulator in emulator mode (started by `options.startEmulator`), the
 * keyring (generated into the data dir in emulator mode only), the vault (embedded PostgreSQL
 * when `DATABASE_URL` is unset), the OAuth client, the token manager, the event bus and, when
 * configured, webhooks.
 * The token manager forgets a user's cached token when any process revokes the credential or
 * deletes the user (a `NOTIFY` sent on commit); while that news cannot be heard (the listening
 * connection down), a cached token is handed out until its refresh-ahead point, and every
 * cached token is forgotten once the connection is back.
 *
 * @throws StewardError `keys_invalid`, `key_missing`, `database_unavailable`, `data_dir_locked`,
 *   `port_in_use`, `emulator_state_corrupt`, `emulator_not_installed`; whatever was opened before
 *   the failure is closed again.
 * @throws TypeError in emulator mode without `options.startEmulator`.
 */
export async function openCore(config: Config, options: CoreOptions): Promise<Core> {
  const { logger } = options;
  // Say a Steward already runs here before starting anything (the emulator's port would be
  // taken too, which says less).
  if (config.databaseUrl === undefined && !options.attach) {
    const dataDir = resolve(config.dataDir);
    const owner = await dataDirOwner(dataDir);
    if (owner !== undefined) throw locked(dataDir, owner);
  }
  const target = await googleTarget(config, options);
  // Closed again when a later step fails: the embedded cluster and the data dir lock with it.
  let opened: Vault | undefined;
  try {
    const emulated = config.google.mode !== "google";
    // The data dir holds the embedded cluster and, in emulator mode, the generated key.
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const keyring = await loadKeyring({
      value: config.keys,
      dataDir: config.dataDir,
      whenUnset: emulated ? (options.attach ? "use-generated" : "generate") : "fail",
      logger,
    });
    const vault = await openVault({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      keyring,
      logger,
      purpose: options.purpose,
      handleSignals: false,
      whenDataDirInUse: options.attach ? "attach" : "fail",
      createIfMissing: !options.attach,
      // Beside a service, the schema is the service's to create or upgrade.
      migrate: !options.attach,
      // With webhooks, every change is written with its events, for the dispatchers to send.
      queueEvents: config.webhook !== undefined,
    });
    opened = vault;
    const { client, endpoints } = target;
    const oauth = createOAuthClient({
      endpoints,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      timeoutSeconds: options.googleTimeoutSeconds,
    });
    const events = new EventBus((error, event) =>
      logger.error({ err: error, event }, "event handler failed"),
    );
    // The store queues the events (above); a dispatcher POSTs them, signed.
    // (A short-lived CLI command only queues; the running service delivers.)
    const webhooks =
      config.webhook && !options.attach
        ? startWebhooks({ db: vault.database.db, events, logger, ...config.webhook })
        : undefined;
    const clientIds = [client.clientId, ...config.extraAudiences];
    const idTokenRules: IdTokenRules = {
      getKey: new GoogleKeys(endpoints.jwksUrl, { logger }).getKey,
      issuers: endpoints.issuers,
      audiences: clientIds,
      authorizedParties: clientIds,
    };
    const tokens = new TokenManager({ store: vault.store, oauth, events, logger });
    // A grant revoked or a user deleted by any process (`steward users revoke`, another
    // instance, its refresh that met invalid_grant) is not answered from this cache again.
    // Opened last: nothing after it can fail and leave it open.
    const revocations = vault.database.listen(CREDENTIAL_REVOKED_CHANNEL, (sub) =>
      sub === undefined ? tokens.forgetAll() : tokens.forget(sub),
    );
    return {
      vault,
      oauth,
      events,
      tokens,
      endpoints,
      client,
      idTokenRules,
      emulator: target.emulator,
      emulated,
      close: async () => {
        await webhooks?.stop();
        await revocations.close();
        await vault.close();
        await target.emulator?.close();
      },
    };
  } catch (error) {
    await opened?.close();
    await target.emulator?.close();
    throw error;
  }
}

interface Target {
  client: GoogleClient;
  endpoints: GoogleEndpoints;
  emulator?: LocalGoogle;
}

async function googleTarget(config: Config, options: CoreOptions): Promise<Target> {
  const google = config.google;
  if (google.mode === "google") {
    // The file's token_uri is Google's; take it from there, as Google's own libraries do.
    const endpoints = google.client.tokenUri
      ? { ...GOOGLE_ENDPOINTS, tokenUrl: google.client.tokenUri }
      : GOOGLE_ENDPOINTS;
    return { client: google.client, endpoints };
  }
  if (google.mode === "external-emulator") {
    return { client: google.client, endpoints: emulatorEndpoints(google.baseUrl) };
  }
  if (options.startEmulator === undefined) {
    throw new TypeError("openCore: emulator mode needs options.startEmulator");
  }
  const origins = options.appOrigin ? [options.appOrigin] : [];
  // Its users, grants and tokens outlive a restart, as the credentials Steward stores of them do.
  const emulator = await options.startEmulator({
    port: options.emulatorPort ?? 9099,
    dataDir: join(config.dataDir, EMULATOR_STATE_DIR),
    defaultClient: {
      clientId: EMULATOR_CLIENT_ID,
      javascriptOrigins: origins,
      redirectUris: origins.map((origin) => `${origin}/oauth2callback`),
    },
  });
  const client: GoogleClient = {
    type: "web",
    clientId: emulator.defaultClient.clientId,
    clientSecret: emulator.defaultClient.clientSecret as string,
    projectId: emulator.defaultClient.projectId,
    authUri: `${emulator.url}/o/oauth2/auth`,
    tokenUri: `${emulator.url}/token`,
    redirectUris: [...emulator.defaultClient.redirectUris],
    javascriptOrigins: [...emulator.defaultClient.javascriptOrigins],
  };
  return { client, endpoints: emulatorEndpoints(emulator.url), emulator };
}
