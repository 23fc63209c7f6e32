import formbody from "@fastify/formbody";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { decodeContentEncoding } from "./content-encoding.js";
import type { EmulatorContext } from "./context.js";
import type { Faults } from "./faults.js";
import { apiErrorBody, sendOAuthError } from "./google-errors.js";
import { refuseForeignPage } from "./local-only.js";
import { OIDC_PROFILE_TOKEN_PATH } from "./oidc-profile.js";
import { EMULATOR_REQUEST_SERIALIZERS } from "./request-log.js";
import { batchRoutes } from "./routes/batch.js";
import { certsRoutes } from "./routes/certs.js";
import { consentRoutes } from "./routes/consent.js";
import { controlRoutes } from "./routes/control/index.js";
import { discoveryRoutes } from "./routes/discovery.js";
import { driveRoutes } from "./routes/drive/index.js";
import { openIdConfigurationRoutes } from "./routes/openid-configuration.js";
import { photosRoutes } from "./routes/photos/index.js";
import { revokeRoutes } from "./routes/revoke.js";
import { riscRoutes } from "./routes/risc.js";
import { riscManagementRoutes } from "./routes/risc-management.js";
import { tokenRoutes } from "./routes/token.js";
import { tokeninfoRoutes } from "./routes/tokeninfo.js";
import { userinfoRoutes } from "./routes/userinfo.js";

/** Paths whose errors take the OAuth shape `{"error": "...", "error_description": "..."}`. */
const OAUTH_PATHS = new Set([
  "/token",
  "/oauth2/v4/token",
  "/o/oauth2/token",
  "/revoke",
  "/o/oauth2/revoke",
  "/tokeninfo",
  "/oauth2/v3/tokeninfo",
  OIDC_PROFILE_TOKEN_PATH,
]);

const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Builds the emulator's HTTP app: one port for every Google host the flows touch. */
export async function buildEmulatorApp(
  ctx: EmulatorContext,
  faults: Faults,
  options: {
    logger?: boolean | FastifyBaseLogger;
    /** Hears every answered request: any of them may have changed the state. */
    onChange?: (() => void) | undefined;
  } = {},
): Promise<FastifyInstance> {
  const logger = options.logger ?? false;
  const app = Fastify({
    ...(typeof logger === "boolean"
      ? { logger: logger && { serializers: EMULATOR_REQUEST_SERIALIZERS } }
      : { loggerInstance: logger.child({}, { serializers: EMULATOR_REQUEST_SERIALIZERS }) }),
    bodyLimit: MAX_BODY_BYTES,
    forceCloseConnections: true,
    // Drive and Photos ids and tokens are case-sensitive; routes must be exact.
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false },
    frameworkErrors: refuseBadUrl,
  });
  // Before every parser, so gzip-encoded forms, JSON and uploads all read as sent.
  app.addHook("preParsing", decodeContentEncoding);
  await app.register(formbody);
  // Raw uploads (Photos bytes, Drive media) and any other type arrive as a Buffer.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.addHook("onRequest", async (request, reply) => {
    if (refuseForeignPage(request, reply)) return reply;
    const path = request.url.split("?")[0] as string;
    if (path.startsWith("/emulator/")) return;
    ctx.state.countRequest(path);
    if (await faults.apply(request, reply)) return reply;
  });

  // Node dates every answer itself; a skewed clock (a test of `steward doctor`) replaces it.
  app.addHook("onSend", async (_request, reply) => {
    const skew = ctx.state.settings.dateSkewSeconds;
    if (skew !== 0) reply.header("date", new Date(Date.now() + skew * 1000).toUTCString());
  });

  const onChange = options.onChange;
  if (onChange) app.addHook("onResponse", async () => onChange());

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, "emulator fault");
    const message = status === 500 ? "Internal error." : publicMessage(error);
    const path = request.url.split("?")[0] as string;
    if (OAUTH_PATHS.has(path)) {
      return sendOAuthError(reply, status === 500 ? 500 : 400, "invalid_request", message);
    }
    return reply
      .code(status === 415 ? 400 : status)
      .send(apiErrorBody(status === 415 ? 400 : status, message));
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(apiErrorBody(404, "Not Found", { reason: "notFound" })),
  );

  // Each plugin gets only the parts of the emulator it uses.
  const { state, keys, issuer, risc, serviceAccounts } = ctx;
  const { clients, users, grants, codes, settings, now } = state;
  const { accessTokens } = grants;
  await app.register(tokenRoutes, { state, keys, issuer });
  await app.register(revokeRoutes, { grants });
  await app.register(tokeninfoRoutes, { keys, accessTokens, users, now });
  await app.register(userinfoRoutes, { accessTokens, users });
  await app.register(certsRoutes, { keys, settings, now });
  await app.register(openIdConfigurationRoutes, { issuer });
  await app.register(consentRoutes, { clients, users: state.directory, codes });
  await app.register(controlRoutes, { state, keys, issuer, faults });
  await app.register(driveRoutes, { state, store: ctx.drive });
  await app.register(batchRoutes);
  await app.register(photosRoutes, { state, store: ctx.photos });
  await app.register(discoveryRoutes);
  await app.register(riscRoutes, { clients, users, grants, risc });
  await app.register(riscManagementRoutes, { clients, now, risc, serviceAccounts });
  app.addHook("onClose", async () => risc.deliveries.close());
  return app;
}

/**
 * What the router refuses before any route (a path not validly percent-encoded, an over-long
 * parameter) is a plain Google 400; Fastify's own answer echoed the URL.
 */
function refuseBadUrl(_error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  return reply.code(400).send(apiErrorBody(400, "Invalid request URL.", { reason: "badRequest" }));
}

/** Fastify's own messages (bad JSON, body too large) are safe; keep them short. */
function publicMessage(error: FastifyError): string {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return "Request body is too large.";
  if (error.validation) return `Invalid request: ${error.message}`;
  return error.message.slice(0, 200);
}
