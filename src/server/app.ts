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
import type * as oidc from "openid-client";
import { type DemoOptions, demoRoutes } from "../demo/routes.js";
import type { EventBus } from "../events/bus.js";
import type { GoogleEndpoints } from "../google/endpoints.js";
import type { IdTokenRules } from "../identity/verify-id-token.js";
import type { Jobs } from "../jobs/index.js";
import { SecurityEventVerifier } from "../risc/security-event-verifier.js";
import type { VaultStore } from "../store/index.js";
import { SUB_MAX_LENGTH } from "../store/index.js";
import type { TokenManager } from "../tokens/token-manager.js";
import { DOCS_PAGE_OPTIONS } from "./docs-page.js";
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
import { type AdminInsight, adminInsightRoutes } from "./routes/internal/admin-insight.js";
import { auditEventsRoutes } from "./routes/internal/audit-events.js";
import { googleProxyRoutes } from "./routes/internal/google-proxy.js";
import { jobsRoutes } from "./routes/internal/jobs.js";
import { usersRoutes } from "./routes/internal/users.js";
import { oauth2TokenRoutes } from "./routes/oauth2/token.js";
import { opsRoutes } from "./routes/ops.js";
import { authCodeRoute } from "./routes/public/auth-code.js";
import { meRoutes } from "./routes/public/me.js";
import { riscRoute } from "./routes/public/risc.js";

/** What the HTTP app is built from; everything external is injected. */
export interface AppDependencies {
  store: VaultStore;
  oauth: oidc.Configuration;
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
  /** The demo photo app at `/` and `/demo/api` (the service turns it on in emulator mode). */
  demo?: DemoOptions;
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
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Steward",
        version: "0.1.0",
        description: "Offline access to Google APIs for your app's backend.",
      },
      components: {
        securitySchemes: {
          googleIdToken: {
            type: "http",
            scheme: "bearer",
            description: "The user's Google ID token.",
          },
          apiKey: {
            type: "http",
            scheme: "bearer",
            description: "An API key or STEWARD_ADMIN_TOKEN.",
          },
        },
      },
    },
  });

  // Browsers' security headers on what a browser loads or calls; the internal API (JSON for
  // backends, behind a bearer key) is registered outside, where helmet's two hooks do not run.
  await app.register(async (browser) => {
    await browser.register(helmet, { global: true });
    await browser.register(swaggerUi, DOCS_PAGE_OPTIONS);
    await browserRoutes(browser, deps, metrics);
  });
  usersRoutes(app, {
    apiAuth: deps.apiAuth,
    store: deps.store,
    oauth: deps.oauth,
    tokens: deps.tokens,
    events: deps.events,
  });
  await googleProxyRoutes(app, {
    apiAuth: deps.apiAuth,
    tokens: deps.tokens,
    endpoints: deps.endpoints,
  });
  auditEventsRoutes(app, { apiAuth: deps.apiAuth, store: deps.store });
  if (deps.insight) adminInsightRoutes(app, { apiAuth: deps.apiAuth, insight: deps.insight });
  // Its own plugin: its refusals are OAuth's {error, error_description}, not the envelope.
  await app.register(oauth2TokenRoutes, {
    apiAuth: deps.apiAuth,
    tokens: deps.tokens,
    store: deps.store,
    idTokenRules: deps.idTokenRules,
  });
  // Google's security events: called by Google, not a browser, so outside helmet's scope.
  await riscRoute(app, {
    verifier: new SecurityEventVerifier(
      deps.endpoints.riscConfigurationUrl,
      deps.idTokenRules.audiences,
      { logger: deps.logger },
    ),
    store: deps.store,
    tokens: deps.tokens,
    events: deps.events,
  });
  if (deps.jobs) jobsRoutes(app, { apiAuth: deps.apiAuth, jobs: deps.jobs });
  return app;
}

/** The routes a browser loads or calls: sign-in, the admin and demo pages, operations. */
async function browserRoutes(
  app: FastifyInstance,
  deps: AppDependencies,
  metrics: Metrics,
): Promise<void> {
  const exchangeCode = authCodeRoute(app, {
    signIn: {
      oauth: deps.oauth,
      idTokenRules: deps.idTokenRules,
      store: deps.store,
      requiredScopes: deps.requiredScopes,
      events: deps.events,
    },
    allowedOrigins: deps.allowedOrigins,
    allowedRedirectUris: deps.allowedRedirectUris,
    metrics,
  });
  meRoutes(app, {
    store: deps.store,
    idTokenRules: deps.idTokenRules,
    oauth: deps.oauth,
    tokens: deps.tokens,
    events: deps.events,
    requiredScopes: deps.requiredScopes,
    allowedOrigins: deps.allowedOrigins,
  });
  await adminPageRoutes(app);
  adminStatusRoute(app, deps.apiAuth.adminTokenConfigured);
  if (deps.demo) {
    await demoRoutes(app, {
      ...deps.demo,
      store: deps.store,
      tokens: deps.tokens,
      endpoints: deps.endpoints,
      idTokenRules: deps.idTokenRules,
      allowedOrigins: deps.allowedOrigins,
      exchangeCode,
    });
  }
  opsRoutes(app, {
    metrics,
    readiness: deps.readiness,
    metricsRoute: deps.metricsRoute ?? { token: undefined },
  });
}

/** Personal data (profiles, scopes, audit, jobs) must not stay in a browser's or a proxy's cache. */
function noStore(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header("cache-control", "no-store");
  done();
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Counted by the per-address rate limit of public routes. */
    rateLimited?: boolean;
    /** Answers with personal data: `Cache-Control: no-store`. */
    personal?: boolean;
  }
}
