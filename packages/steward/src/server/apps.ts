import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import { type FetchAsOptions, fetchAs } from "../access/fetch-as.js";
import { atApiBase, type GoogleEndpoints } from "../google/endpoints.js";
import { type IdTokenRules, verifyIdToken } from "../identity/verify-id-token.js";
import type { Jobs } from "../jobs/index.js";
import type { VaultStore } from "../store/store.js";
import type { AccessTokenOptions, TokenManager } from "../tokens/token-manager.js";
import type { CodeExchange } from "./code-exchange.js";
import { requireAllowedOrigin, requireHttps, requireRequestedWith } from "./plugins/guards.js";
import { type PublicUser, publicUser } from "./schemas.js";

/**
 * An app mounted on the service (`steward start --app <module>`, or `startService`'s `apps`):
 * its routes share the service's origin, error envelope, rate limit, security headers and
 * OpenAPI document. The photo demo (`packages/demo`) is one.
 *
 * @example
 *   const hello: StewardApp = {
 *     name: "Hello",
 *     plugin: async (app, steward) => {
 *       app.get("/hello/me", async (request) => ({ sub: await steward.verifyIdToken(bearer(request)) }));
 *     },
 *   };
 */
export interface StewardApp {
  /** Its name in the start banner, e.g. "Demo". */
  readonly name: string;
  /** The page the banner points at, a path on the service. Default "/". */
  readonly home?: string;
  /** Registered once on the service, in the scope browsers call (helmet's headers apply). */
  readonly plugin: FastifyPluginAsync<AppContext>;
  /**
   * Mounted only when Google is an emulator (the in-process one, or one `STEWARD_GOOGLE` names),
   * e.g. an app whose page signs in through the emulator's consent page. Default false.
   */
  readonly emulatorOnly?: boolean;
}

/** The OAuth client a page signs users in with, as the service is configured. */
export interface AppClient {
  readonly clientId: string;
  /** Google's (or the emulator's) authorization endpoint, where a consent popup opens. */
  readonly authorizationUrl: string;
  /** Origins registered on the client for popups; a page must be opened at one of them. */
  readonly javascriptOrigins: readonly string[];
}

/** A stored user as an app may see it: the public profile and the grant's state, no secret. */
export interface AppUser {
  readonly profile: PublicUser;
  /** Absent when no credential is stored. */
  readonly credential:
    | {
        /** `active`, `revoked` or `expired`. */
        readonly status: string;
        readonly grantedScopes: readonly string[];
        readonly hasRefreshToken: boolean;
      }
    | undefined;
}

/** What a mounted app may use of Steward: its operations, never its stores or keys. */
export interface AppContext {
  readonly client: AppClient;
  /** Whether Google is an emulator (the in-process one, or one `STEWARD_GOOGLE` names). */
  readonly emulated: boolean;
  /** Background jobs for users; absent when the service runs none. */
  readonly jobs: Jobs | undefined;
  /**
   * `POST /v1/auth/google/code`'s own exchange (a JSON or form body, or the raw code): the same
   * checks, storage, events and metrics. The calling route guards itself with
   * {@link AppContext.guardBrowserPost} and `config: { rateLimited: true }`.
   * @throws StewardError as that route answers: `invalid_request`, `invalid_grant`, ...
   */
  signIn: CodeExchange;
  /**
   * The `sub` of a Google ID token, verified as `/v1/me` verifies a bearer.
   * @throws StewardError `id_token_invalid`
   */
  verifyIdToken(idToken: string): Promise<string>;
  /** The stored user, or undefined when there is none. */
  user(sub: string): Promise<AppUser | undefined>;
  /**
   * `fetch` to a Google API as the user, as the library's `fetchAs`; `scopes` asks for a token
   * holding them, so a cached one minted before the user allowed them is refreshed first.
   */
  fetchAs(
    sub: string,
    url: string | URL,
    init?: RequestInit,
    options?: FetchAsOptions & Pick<AccessTokenOptions, "scopes">,
  ): Promise<Response>;
  /** The base URL of a Google API host (`photoslibrary.googleapis.com`), the emulator's in its mode. */
  apiBaseUrl(host: string): string;
  /** Whether a user's access token may be sent to this URL (Google API hosts only). */
  isApiUrl(url: URL): boolean;
  /**
   * A preHandler with the checks of `POST /v1/auth/google/code`, for a browser's state-changing
   * call: HTTPS off loopback, `X-Requested-With`, an allowed `Origin`.
   * @throws StewardError `https_required`, `csrf_header_missing`, `origin_not_allowed`
   */
  guardBrowserPost(request: FastifyRequest): Promise<void>;
  /** @throws StewardError `https_required` off loopback without HTTPS. */
  requireHttps(request: FastifyRequest): void;
}

/** What the service builds an {@link AppContext} from. */
export interface AppContextDependencies {
  client: AppClient;
  emulated: boolean;
  jobs: Jobs | undefined;
  exchangeCode: CodeExchange;
  store: Pick<VaultStore, "getUser">;
  tokens: Pick<TokenManager, "accessToken">;
  endpoints: GoogleEndpoints;
  idTokenRules: IdTokenRules;
  allowedOrigins: readonly string[];
}

/** Which of `apps` a service mounts: an emulator-only app only against an emulator. */
export function appsToMount(apps: readonly StewardApp[], emulated: boolean): StewardApp[] {
  return apps.filter((candidate) => candidate.emulatorOnly !== true || emulated);
}

/** Registers each app on `app`, in order, with the one context they share. */
export async function mountApps(
  app: FastifyInstance,
  apps: readonly StewardApp[],
  deps: AppContextDependencies,
): Promise<void> {
  const context = appContext(deps);
  for (const mounted of apps) await app.register(mounted.plugin, context);
}

function appContext(deps: AppContextDependencies): AppContext {
  const { endpoints } = deps;
  return Object.freeze({
    client: deps.client,
    emulated: deps.emulated,
    jobs: deps.jobs,
    signIn: deps.exchangeCode,
    verifyIdToken: async (idToken: string) => (await verifyIdToken(idToken, deps.idTokenRules)).sub,
    user: async (sub: string) => {
      const record = await deps.store.getUser(sub);
      if (record === undefined) return undefined;
      const { credential } = record;
      return {
        profile: publicUser(record),
        credential: credential && {
          status: credential.status,
          grantedScopes: credential.grantedScopes,
          hasRefreshToken: credential.hasRefreshToken,
        },
      };
    },
    fetchAs: (sub, url, init, options) =>
      fetchAs(deps.tokens, endpoints.isApiUrl, sub, atApiBase(endpoints, url), init, options),
    apiBaseUrl: (host: string) => endpoints.apiBaseUrl(host),
    isApiUrl: (url: URL) => endpoints.isApiUrl(url),
    guardBrowserPost: async (request: FastifyRequest) => {
      requireHttps(request);
      requireRequestedWith(request);
      requireAllowedOrigin(request, deps.allowedOrigins);
    },
    requireHttps,
  } satisfies AppContext);
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Counted by the per-address rate limit of public routes. */
    rateLimited?: boolean;
    /** Answers with personal data: `Cache-Control: no-store`. */
    personal?: boolean;
  }
}
