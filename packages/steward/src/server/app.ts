import { randomUUID } from "node:crypto";
import formbody from "@fastify/formbody";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { RevokeDependencies } from "../access/revoke.js";
import type { KeyUsage } from "../crypto/key-usage.js";
import type { EventBus } from "../events/bus.js";
import type { GoogleEndpoints } from "../google/endpoints.js";
import type { IdTokenRules } from "../identity/verify-id-token.js";
import type { Jobs } from "../jobs/index.js";
import type { OAuthClient } from "../oauth/client.js";
import { SecurityEventVerifier } from "../risc/security-event-verifier.js";
import type { HourOfActivity } from "../store/activity.js";
import type { VaultStore } from "../store/store.js";
import { SUB_MAX_LENGTH } from "../store/store-checks.js";
import type { TokenManager } from "../tokens/token-manager.js";
import { type AppClient, mountApps, type StewardApp } from "./apps.js";
import { codeExchange } from "./code-exchange.js";
import { DOCS_PAGE_OPTIONS, OPENAPI_OPTIONS } from "./docs-page.js";
import { REQUEST_SERIALIZERS, RequestLines, requestLogger } from "./logger.js";
import type { ApiAuth } from "./plugins/api-auth.js";
import {
  answerClientError,
  answerFrameworkError,
  registerErrorHandling,
} from "./plugins/errors.js";
import { Metrics } from "./plugins/metrics.js";
import { adminPageRoutes } from "./routes/admin-page.js";
import { adminStatusRoute } from "./routes/admin-status.js";
import { adminActivityRoute } from "./routes/internal/admin-activity.js";
import { adminKeysRoute } from "./routes/internal/admin-keys.js";
import { auditEventsRoute } from "./routes/internal/audit-events.js";
import { googleProxyRoute } from "./routes/internal/google-proxy.js";
import { jobsRoute } from "./routes/internal/jobs.js";
import { accessTokenRoute } from "./routes/internal/users/access-token.js";
import { deleteUserRoute } from "./routes/internal/users/delete-user.js";
import { getUserRoute } from "./routes/internal/users/get-user.js";
import { listUsersRoute } from "./routes/internal/users/list-users.js";
import { revokeUserRoute } from "./routes/internal/users/revoke-user.js";
import { oauth2TokenRoute } from "./routes/oauth2/token.js";
import { healthzRoute } from "./routes/ops/healthz.js";
import { metricsRoute } from "./routes/ops/metrics.js";
import { readyzRoute } from "./routes/ops/readyz.js";
import { authCodeRoute } from "./routes/public/auth-code.js";
import { meRoute } from "./routes/public/me.js";
import { meConnectionRoute } from "./routes/public/me-connection.js";
import { riscRoute } from "./routes/public/risc.js";

/** What the HTTP app is built from; everything external is injected. */
export interface AppDependencies {
  store: VaultStore;
  oauth: OAuthClient;
  tokens: TokenManager;
  events: EventBus;
  apiAuth: ApiAuth;
  endpoints: GoogleEndpoints;
  idTokenRules: IdTokenRules;
  requiredScopes: readonly string[];
  allowedOrigins: readonly string[];
  /** redirect_uri values a code may be exchanged with, besides "" and "postmessage". */
  allowedRedirectUris: readonly string[];
  /** Addresses of proxies whose X-Forwarded-* headers are believed. */
  trustProxy: readonly string[];
  readiness: () => Promise<Record<string, boolean>>;
  /** Requests per minute per client address on public routes. Default 120. */
  rateLimitPerMinute?: number;
  metrics?: Metrics;
  /**
   * `/metrics` on this app, and the bearer token it asks for (`STEWARD_METRICS_TOKEN`); false
   * when a port of its own serves it (see metrics-server.ts). Default: here, without a token.
   */
  metricsRoute?: { token: string | undefined } | false;
  /** A pino logger; silent when absent. */
  logger?: FastifyBaseLogger;
  https?: { key: Buffer; cert: Buffer };
  /** Background jobs, listed for operators at `GET /v1/jobs`; the route is absent without. */
  jobs?: Jobs;
  /** The admin page's activity charts and key usage; their routes are absent without. */
  insight?: AdminInsight;
  /** Apps mounted on the service (see apps.ts), and the client their pages sign in with. */
  apps?: { mounted: readonly StewardApp[]; client: AppClient; emulated: boolean };
}

/** What the admin page charts and counts, read from the vault. */
export interface AdminInsight {
  /** The last `hours` hours, oldest first (see vault/activity.ts). */
  activity(hours: number): Promise<HourOfActivity[]>;
  /** Credentials per key id (see vault/key-usage.ts). */
  keyUsage(): Promise<KeyUsage[]>;
}

/** The body limit of every route: codes and ID tokens are small. */
export const BODY_LIMIT_BYTES = 16 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Builds the service's Fastify app (it does not listen; see server.ts). Public routes for apps,
 * operations routes, the OpenAPI UI at /docs, one error envelope, request ids, redacted logs.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? new Metrics();
  const app = Fastify({
    ...(deps.logger
      ? {
          // Every line about a request shows its URL without query values: secrets ride there.
          loggerInstance: deps.logger.child({}, { serializers: REQUEST_SERIALIZERS }),
          childLoggerFactory: requestLogger,
          logController: new RequestLines(),
        }
      : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A `sub` as long as the store takes reaches its route, whose schema says what is wrong.
    routerOptions: { maxParamLength: SUB_MAX_LENGTH },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // Refuse what does not match a schema instead of silently converting or dropping it.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    trustProxy: deps.trustProxy.length > 0 ? [...deps.trustProxy] : false,
    // genReqId reads x-request-id itself: with requestIdHeader set, Fastify would take any value
    // of the header as the id and never call genReqId, so the shape was never checked.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance;

  registerErrorHandling(app);
  // Callback hooks, not async ones: they run on every request, and a promise each costs.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    metrics.httpSeconds.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unknown",
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  // Counted on the routes that ask for it only (one shared count per address): the internal API
  // does not pay for a hook that would let it through anyway.
  await app.register(rateLimit, {
    global: false,
    max: deps.rateLimitPerMinute ?? 120,
    timeWindow: "1 minute",
  });
  app.addHook("onRoute", (route) => {
    const added = [
      ...(route.config?.personal === true ? [noStore] : []),
      ...(route.config?.rateLimited === true ? [app.rateLimit()] : []),
    ];
    if (added.length === 0) return;
    const hooks = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [...hooks, ...added];
  });
  await app.register(formbody);
  // Google's own samples post the code raw, as application/octet-stream.
  app.addContentTypeParser(
    "application/octet-stream",
    { parseAs: "buffer" },
    (_request, body, done) => done(null, body),
  );
  await app.register(swagger, OPENAPI_OPTIONS);

  // Each route is a plugin given only what it uses.
  const { apiAuth, store, tokens, idTokenRules } = deps;
  const revoke: RevokeDependencies = { store, oauth: deps.oauth, tokens, events: deps.events };
  const exchange = codeExchange({
    signIn: {
      oauth: deps.oauth,
      idTokenRules,
      store,
      requiredScopes: deps.requiredScopes,
      events: deps.events,
    },
    allowedRedirectUris: deps.allowedRedirectUris,
    metrics,
    log: app.log,
  });

  // Browsers' security headers on what a browser loads or calls; the internal API (JSON for
  // backends, behind a bearer key) is registered outside, where helmet's two hooks do not run.
  await app.register(async (browser) => {
    await browser.register(helmet, { global: true });
    await browser.register(swaggerUi, DOCS_PAGE_OPTIONS);
    const { allowedOrigins } = deps;
    await browser.register(authCodeRoute, { exchange, allowedOrigins });
    await browser.register(meRoute, { store, idTokenRules, requiredScopes: deps.requiredScopes });
    await browser.register(meConnectionRoute, { revoke, idTokenRules, allowedOrigins });
    await browser.register(adminPageRoutes);
    await browser.register(adminStatusRoute, {
      adminTokenConfigured: apiAuth.adminTokenConfigured,
    });
    if (deps.apps) {
      await mountApps(browser, deps.apps.mounted, {
        client: deps.apps.client,
        emulated: deps.apps.emulated,
        jobs: deps.jobs,
        exchangeCode: exchange,
        store,
        tokens,
        endpoints: deps.endpoints,
        idTokenRules,
        allowedOrigins,
      });
    }
    await browser.register(healthzRoute);
    await browser.register(readyzRoute, { readiness: deps.readiness });
    const metricsHere = deps.metricsRoute ?? { token: undefined };
    if (metricsHere) await browser.register(metricsRoute, { metrics, token: metricsHere.token });
  });

  // The internal API, for backends.
  await app.register(listUsersRoute, { apiAuth, store });
  await app.register(getUserRoute, { apiAuth, store });
  await app.register(deleteUserRoute, { apiAuth, revoke });
  await app.register(revokeUserRoute, { apiAuth, revoke });
  await app.register(accessTokenRoute, { apiAuth, handout: { tokens, store } });
  await app.register(googleProxyRoute, { apiAuth, tokens, endpoints: deps.endpoints });
  await app.register(auditEventsRoute, { apiAuth, store });
  const { insight } = deps;
  if (insight) {
    await app.register(adminActivityRoute, { apiAuth, activity: (h) => insight.activity(h) });
    await app.register(adminKeysRoute, { apiAuth, keyUsage: () => insight.keyUsage() });
  }
  await app.register(oauth2TokenRoute, { apiAuth, tokens, store, idTokenRules });
  // Google's security events: called by Google, not a browser, so outside helmet's scope.
  await app.register(riscRoute, {
    verifier: new SecurityEventVerifier(
      deps.endpoints.riscConfigurationUrl,
      idTokenRules.audiences,
      { logger: deps.logger },
    ),
    store,
    tokens,
    events: deps.events,
  });
  if (deps.jobs) await app.register(jobsRoute, { apiAuth, jobs: deps.jobs });
  return app;
}

/** Personal data (profiles, scopes, audit, jobs) must not stay in a browser's or a proxy's cache. */
function noStore(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header("cache-control", "no-store");
  done();
}
