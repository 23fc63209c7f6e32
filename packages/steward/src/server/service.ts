import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { API_KEY_REVOKED_CHANNEL, ApiKeys } from "../api-keys/index.js";
import type { Config } from "../config/load.js";
import { type Core, openCore } from "../core/open-core.js";
import { keyUsage } from "../crypto/index.js";
import { StewardError } from "../errors.js";
import { startEmulatorPackage } from "../google/emulator-package.js";
import { createJobs, type Jobs, jobsConnectionString } from "../jobs/index.js";
import { reserveLoopbackPort } from "../shared/index.js";
import { hourlyActivity } from "../store/index.js";
import { IdleRefresh } from "../tokens/idle-refresh.js";
import { buildApp } from "./app.js";
import { appsToMount, type StewardApp } from "./apps.js";
import { REDACTED_PATHS } from "./logger.js";
import { buildMetricsApp, openMetricsAddress } from "./metrics-server.js";
import { ApiAuth } from "./plugins/api-auth.js";
import { Metrics } from "./plugins/metrics.js";

export interface ServiceOptions {
  logger?: Logger;
  /** Port of the in-process emulator (emulator mode only). 0 picks a free one. Default 9099. */
  emulatorPort?: number;
  rateLimitPerMinute?: number;
  /** Give up on a call to Google's token endpoint after this long. Default 10 s. */
  googleTimeoutSeconds?: number;
  /** Work jobs in this process. Default true; false leaves them to `steward worker` processes. */
  jobWorkers?: boolean;
  /** Apps to mount on the service, e.g. the photo demo (see apps.ts). Default none. */
  apps?: readonly StewardApp[];
}

/** A running Steward service. */
export interface RunningService extends Core {
  /** Base URL of the API, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly app: FastifyInstance;
  /** Base URL of the metrics port (`STEWARD_METRICS_PORT`), when metrics have one. */
  readonly metricsUrl: string | undefined;
  /** Background jobs; worked in this process unless `jobWorkers` was false. */
  readonly jobs: Jobs;
  /** The apps mounted on it (an emulator-only one only against an emulator). */
  readonly apps: readonly StewardApp[];
  /** Stops taking requests, finishes those in flight, then closes the database and emulator. */
  close(): Promise<void>;
}

/**
 * Starts the service from a loaded {@link Config}: the core (in emulator mode the
 * `@steward/emulator` package in this process, vault, token manager), then the HTTP API.
 *
 * @throws StewardError `keys_invalid`, `key_missing`, `database_unavailable`, `data_dir_locked`,
 *   `port_in_use`, `emulator_state_corrupt`, `emulator_not_installed`; whatever was started before the failure is stopped again.
 */
export async function startService(
  config: Config,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const logger =
    options.logger ??
    pino({ level: "info", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } });
  // Pages of mounted apps are served by us; the emulator must know its origin before we listen.
  // A port picked for us is held until then, so that nothing else takes it during start-up.
  const reserved = config.port === 0 ? await reserveLoopbackPort() : undefined;
  const port = reserved?.port ?? config.port;
  const scheme = config.tls ? "https" : "http";
  const url = `${scheme}://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  const core = await openCore(config, {
    logger,
    startEmulator: startEmulatorPackage,
    emulatorPort: options.emulatorPort,
    appOrigin: new URL(url).origin,
    googleTimeoutSeconds: options.googleTimeoutSeconds,
    purpose: "steward serve",
  }).catch(async (error: unknown) => {
    await reserved?.release();
    throw error;
  });
  const apps = appsToMount(options.apps ?? [], core.emulated);
  let app: FastifyInstance | undefined;
  let metricsApp: FastifyInstance | undefined;
  let jobs: Jobs | undefined;
  let idle: IdleRefresh | undefined;
  const metrics = new Metrics();
  const apiAuth = new ApiAuth(new ApiKeys(core.vault.database.db), config.adminToken);
  // A key revoked anywhere (`steward api-keys revoke`, another instance) is refused at once.
  const revocations = core.vault.database.listen(API_KEY_REVOKED_CHANNEL, () =>
    apiAuth.forgetVerified(),
  );
  try {
    const https = config.tls
      ? { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) }
      : undefined;
    jobs = await createJobs({
      connectionString: jobsConnectionString(config.databaseUrl, core.vault.database),
      tokens: core.tokens,
      endpoints: core.endpoints,
      store: core.vault.store,
      logger,
      workers: options.jobWorkers ?? true,
    });
    app = await buildApp({
      store: core.vault.store,
      oauth: core.oauth,
      tokens: core.tokens,
      events: core.events,
      apiAuth,
      endpoints: core.endpoints,
      idTokenRules: core.idTokenRules,
      requiredScopes: config.requiredScopes,
      allowedOrigins: core.emulated
        ? [...config.allowedOrigins, new URL(url).origin]
        : config.allowedOrigins,
      allowedRedirectUris: core.client.redirectUris,
      trustProxy: config.trustProxy,
      readiness: async () => ({
        database: await core.vault.database.db
          .selectNoFrom((eb) => eb.lit(1).as("one"))
          .execute()
          .then(
            () => true,
            () => false,
          ),
        keys: core.vault.keyring.kids.length > 0,
      }),
      rateLimitPerMinute: options.rateLimitPerMinute,
      insight: {
        activity: (hours) => hourlyActivity(core.vault.database.db, hours),
        keyUsage: () => keyUsage(core.vault.database.db, core.vault.keyring),
      },
      apps: {
        mounted: apps,
        client: {
          clientId: core.client.clientId,
          authorizationUrl:
            core.client.authUri ?? core.endpoints.tokenUrl.replace(/\/token$/, "/o/oauth2/v2/auth"),
          javascriptOrigins: core.client.javascriptOrigins,
        },
        emulated: core.emulated,
      },
      jobs,
      logger,
      https,
      metrics,
      metricsRoute: config.metrics.port === undefined ? { token: config.metrics.token } : false,
    });
    if (config.metrics.port !== undefined) {
      metricsApp = buildMetricsApp({ metrics, token: config.metrics.token, logger, https });
    }
    await reserved?.release();
    await app.listen({ host: config.host, port });
    await metricsApp
      ?.listen({ host: config.metrics.host, port: config.metrics.port })
      .catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "EADDRINUSE") throw error;
        throw new StewardError("port_in_use", {
          message: `STEWARD_METRICS_PORT ${config.metrics.port} on ${config.metrics.host} is already in use.`,
          cause: error,
        });
      });
    warnWhenMetricsAreOpen(config, logger);
    idle = new IdleRefresh({
      store: core.vault.store,
      tokens: core.tokens,
      idleMs: config.idleRefresh.days * 86_400_000,
      perMinute: config.idleRefresh.perMinute,
      logger,
    });
    idle.start();
  } catch (error) {
    await reserved?.release();
    await app?.close();
    await metricsApp?.close();
    await jobs?.stop();
    await revocations.close();
    await core.close();
    throw error;
  }
  const started = app;
  const startedMetrics = metricsApp;
  const startedJobs = jobs;
  const startedIdle = idle;
  return {
    ...core,
    url,
    app: started,
    metricsUrl: startedMetrics && listeningUrl(startedMetrics, scheme),
    jobs: startedJobs,
    apps,
    close: async () => {
      startedIdle?.stop();
      await started.close();
      await startedMetrics?.close();
      await startedJobs.stop();
      await revocations.close();
      await core.close();
    },
  };
}

function warnWhenMetricsAreOpen(config: Config, logger: Logger): void {
  const open = openMetricsAddress(config);
  if (open === undefined) return;
  logger.warn(
    open,
    "/metrics is served off loopback without STEWARD_METRICS_TOKEN: anyone who reaches this address can read it; set STEWARD_METRICS_TOKEN, or STEWARD_METRICS_PORT and STEWARD_METRICS_HOST on a private address",
  );
}

function listeningUrl(app: FastifyInstance, scheme: string): string {
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new TypeError("not listening on TCP");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}
