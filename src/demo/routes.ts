import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fetchAs } from "../access/fetch-as.js";
import { StewardError } from "../errors.js";
import type { GoogleEndpoints } from "../google/endpoints.js";
import type { IdTokenRules } from "../identity/verify-id-token.js";
import type { Jobs } from "../jobs/index.js";
import {
  requireAllowedOrigin,
  requireHttps,
  requireRequestedWith,
} from "../server/plugins/guards.js";
import type { CodeExchange } from "../server/routes/public/auth-code.js";
import { errorResponses } from "../server/schemas.js";
import { serveWebAsset } from "../server/web-assets.js";
import type { VaultStore } from "../store/index.js";
import type { TokenManager } from "../tokens/token-manager.js";
import { AlbumDirectory, ORIGINALS_ALBUM } from "./albums.js";
import { demoUser } from "./auth.js";
import { ENHANCE_JOB, ENHANCE_SCOPES, enhancePhotoHandler } from "./enhance-photo.js";
import {
  DEMO_SCOPES,
  FEATURES,
  type Feature,
  featuresOf,
  PHOTOS_APPEND_SCOPE,
  PHOTOS_READ_SCOPE,
} from "./features.js";
import { ACCEPTED_MIME_TYPES, inspectImage } from "./image.js";
import { MAX_PHOTO_BYTES, PhotosLibrary, Serial } from "./photos.js";
import { DemoConfig, DemoState, ItemView, SessionResponse } from "./schemas.js";
import { DemoSessions } from "./session.js";
import { demoState, itemView } from "./state.js";

/** What the demo needs of src/jobs: define the handler, enqueue, list. */
export type DemoJobs = Pick<Jobs, "define" | "enqueue" | "list">;

/** Turns the demo photo app on (the service does in emulator mode). */
export interface DemoOptions {
  /** The OAuth client the page signs in with. */
  clientId: string;
  /** Google's (the emulator's) authorization endpoint, where the consent popup opens. */
  authorizationUrl: string;
  /** Origins registered on the client for popups; the page must be opened at one of them. */
  origins: readonly string[];
  /** Background jobs, for "Enhance while I'm away"; without them the button is off. */
  jobs?: DemoJobs;
}

export interface DemoDependencies extends DemoOptions {
  /** `POST /v1/auth/google/code`'s own exchange. */
  exchangeCode: CodeExchange;
  store: VaultStore;
  tokens: TokenManager;
  endpoints: GoogleEndpoints;
  idTokenRules: IdTokenRules;
  allowedOrigins: readonly string[];
}

const MediaItemId = Type.String({ pattern: "^[A-Za-z0-9_-]{1,200}$" });

/**
 * The demo photo app: its page at `/` and its API under `/demo/api`. The page signs the user in
 * with the web code flow (popup), posts the code to `POST /demo/api/session`, which exchanges
 * it as `POST /v1/auth/google/code` does and opens a cookie session, uploads photos into an
 * app-created album as the user, and enqueues the enhancing job.
 */
export async function demoRoutes(app: FastifyInstance, deps: DemoDependencies): Promise<void> {
  const sessions = new DemoSessions();
  const albums = new AlbumDirectory();
  const serial = new Serial();
  const photosBase = deps.endpoints.apiBaseUrl("photoslibrary.googleapis.com");
  // Base URLs live on Google's content hosts (lh3.googleusercontent.com), or in emulator mode
  // under the emulator's /lh3/ (no token is sent to them).
  const emulatedMedia = new URL("/lh3/", photosBase);
  const isMediaUrl = (url: URL) =>
    deps.endpoints.isApiUrl(url) ||
    (url.origin === emulatedMedia.origin && url.pathname.startsWith(emulatedMedia.pathname)) ||
    (url.protocol === "https:" && url.hostname.endsWith(".googleusercontent.com") && !url.port);
  const photosAs = (sub: string) =>
    new PhotosLibrary(
      (url, init) =>
        fetchAs(deps.tokens, deps.endpoints.isApiUrl, sub, url, init, {
          scopes: [photosScopeOf(url, init)],
        }),
      photosBase,
      isMediaUrl,
    );
  const { jobs } = deps;
  if (jobs) {
    await jobs.define(
      ENHANCE_JOB,
      enhancePhotoHandler({ photosBase, isMediaUrl, albums, serial }),
      { retryLimit: 2, retryDelaySeconds: 5, scopes: ENHANCE_SCOPES },
    );
  }
  const user = (request: FastifyRequest) => demoUser(request, sessions, deps.idTokenRules);
  const mutation = async (request: FastifyRequest) => {
    requireHttps(request);
    requireRequestedWith(request);
    requireAllowedOrigin(request, deps.allowedOrigins);
  };
  const grantedScopes = async (sub: string) =>
    (await deps.store.getUser(sub))?.credential?.grantedScopes ?? [];

  // The popup's opener must survive the trip to the consent page and back.
  await serveWebAsset(app, "/", "index.html", {
    headers: { "cross-origin-opener-policy": "same-origin-allow-popups" },
  });
  await serveWebAsset(app, "/assets/app.js", "app.js");

  app.get(
    "/demo/api/config",
    { schema: { tags: ["demo"], response: { 200: DemoConfig } } },
    async () => ({
      clientId: deps.clientId,
      authorizationUrl: deps.authorizationUrl,
      scopes: [...DEMO_SCOPES],
      origins: [...deps.origins],
      features: FEATURES.map(({ id, title, scope }) => ({ id, title, scope })),
    }),
  );

  app.post<{ Body: { code: string; redirectUri?: string } }>(
    "/demo/api/session",
    {
      config: { rateLimited: true },
      preHandler: mutation,
      schema: {
        summary: "Sign in to the demo: the code goes to POST /v1/auth/google/code",
        tags: ["demo"],
        body: Type.Object(
          {
            code: Type.String({ maxLength: 1024 }),
            redirectUri: Type.Optional(Type.String({ maxLength: 2048 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: SessionResponse,
          ...errorResponses(400, 401, 403, 413, 415, 429, 500, 502),
        },
      },
    },
    async (request, reply) => {
      // The code goes through POST /v1/auth/google/code's own exchange, under this route's
      // guards (the same as that route's) and this browser's own rate limit.
      const body = await deps.exchangeCode(request.body);
      reply.header("set-cookie", sessions.issue(body.user.sub, request.protocol === "https"));
      return { ...body, features: featuresOf(body.grantedScopes) };
    },
  );

  app.delete(
    "/demo/api/session",
    {
      preHandler: mutation,
      schema: {
        tags: ["demo"],
        response: { 200: Type.Object({ signedOut: Type.Boolean() }), ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      // Every copy of the cookie ends, not only this browser's.
      const sub = sessions.verify(request.headers.cookie);
      if (sub !== undefined) sessions.endAll(sub);
      reply.header("set-cookie", sessions.clear(request.protocol === "https"));
      return { signedOut: true };
    },
  );

  app.get(
    "/demo/api/state",
    {
      schema: {
        summary: "The signed-in user, their connection, albums and jobs",
        tags: ["demo"],
        response: { 200: DemoState, ...errorResponses(401, 403, 502) },
      },
    },
    async (request, reply) => {
      const sub = await user(request);
      reply.header("cache-control", "no-store");
      return demoState(
        {
          store: deps.store,
          photos: photosAs,
          jobs: jobs && ((owner) => jobs.list({ sub: owner, limit: 20 })),
        },
        sub,
      );
    },
  );

  await app.register(async (uploads) => {
    // Photos arrive as their own bytes, the file as the browser has it.
    uploads.addContentTypeParser(
      [...ACCEPTED_MIME_TYPES],
      { parseAs: "buffer", bodyLimit: MAX_PHOTO_BYTES },
      (_request, body, done) => done(null, body),
    );
    uploads.post(
      "/demo/api/photos",
      {
        bodyLimit: MAX_PHOTO_BYTES,
        config: { rateLimited: true },
        preHandler: mutation,
        schema: {
          summary: "Upload a photo into the app's album, as the user",
          tags: ["demo"],
          headers: Type.Object({
            "x-file-name": Type.Optional(Type.String({ maxLength: 1024 })),
          }),
          response: {
            200: Type.Object({
              album: Type.Object({ id: Type.String(), title: Type.String() }),
              mediaItem: ItemView,
            }),
            ...errorResponses(400, 401, 403, 409, 413, 415, 429, 502),
          },
        },
      },
      async (request) => {
        const sub = await user(request);
        const bytes = request.body;
        if (!Buffer.isBuffer(bytes)) throw new StewardError("unsupported_media_type");
        const granted = await grantedScopes(sub);
        requireFeature(granted, "upload");
        const image = await inspectImage(bytes);
        const photos = photosAs(sub);
        const canList = featuresOf(granted).some((f) => f.id === "view" && f.granted);
        const album = await albums.named(sub, photos, ORIGINALS_ALBUM, canList);
        const fileName = safeFileName(request.headers["x-file-name"], image.format);
        const item = await serial
          .run(sub, () =>
            photos.upload(bytes, { mimeType: image.mimeType, fileName, albumId: album.id }),
          )
          .catch((error: unknown) => {
            albums.forget(sub, ORIGINALS_ALBUM);
            throw error;
          });
        return { album, mediaItem: itemView(item) };
      },
    );
  });

  app.post<{ Body: { mediaItemId: string } }>(
    "/demo/api/enhance",
    {
      config: { rateLimited: true },
      preHandler: mutation,
      schema: {
        summary: "Enqueue the enhancing job for a photo; the page may be closed",
        tags: ["demo"],
        body: Type.Object({ mediaItemId: MediaItemId }, { additionalProperties: false }),
        response: {
          202: Type.Object({ jobId: Type.String() }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request, reply) => {
      const sub = await user(request);
      if (!jobs) throw new StewardError("not_found", { message: "This service runs no jobs." });
      // A second click while the job is queued or running gets the same job.
      const { mediaItemId } = request.body;
      const jobId = await jobs.enqueue(
        ENHANCE_JOB,
        sub,
        { mediaItemId },
        { singletonKey: `${sub}:${mediaItemId}` },
      );
      return reply.code(202).send({ jobId });
    },
  );

  app.get<{ Params: { id: string } }>(
    "/demo/api/media/:id",
    {
      schema: {
        tags: ["demo"],
        params: Type.Object({ id: MediaItemId }),
        response: errorResponses(401, 403, 404, 409, 413, 415, 502),
      },
    },
    async (request, reply) => {
      const sub = await user(request);
      const photos = photosAs(sub);
      const item = await photos.item(request.params.id);
      const media = await photos.download(item, { size: "w2048-h2048" });
      // Only images are served from our origin: an HTML "photo" here would be a stored XSS.
      const mimeType = media.mimeType.split(";")[0]?.trim().toLowerCase() ?? "";
      if (!ACCEPTED_MIME_TYPES.includes(mimeType)) throw new StewardError("unsupported_media_type");
      return reply
        .type(mimeType)
        .header("cache-control", "private, max-age=300")
        .header("content-disposition", "inline")
        .send(media.bytes);
    },
  );
}

/** @throws StewardError `scope_not_granted`, naming the feature the missing scope turns on. */
function requireFeature(granted: readonly string[], id: Feature["id"]): void {
  const feature = featuresOf(granted).find((candidate) => candidate.id === id);
  if (feature && !feature.granted) {
    throw new StewardError("scope_not_granted", {
      message: `${feature.title} is off: you did not allow ${feature.scope}. Sign in again and allow it.`,
    });
  }
}

/** The browser's file name (URI-encoded, as headers are ASCII), without path or odd characters. */
function safeFileName(header: unknown, format: string): string {
  let name = "";
  try {
    name = typeof header === "string" ? decodeURIComponent(header) : "";
  } catch {}
  name = (name.split(/[\\/]/).pop() ?? "").replace(/[^\p{L}\p{N} ._()-]/gu, "").slice(0, 200);
  return name.trim() || `photo.${format === "jpeg" ? "jpg" : format}`;
}

/**
 * The scope a Photos Library call needs: reading what the app created, or adding to it. Asking
 * for it makes a cached token that lacks it (minted before the user allowed it, on "Ask again")
 * be refreshed rather than sent to a 403.
 */
function photosScopeOf(url: string | URL, init: RequestInit | undefined): string {
  const method = init?.method ?? "GET";
  const reads = method === "GET" || String(url).includes("/v1/mediaItems:search");
  return reads ? PHOTOS_READ_SCOPE : PHOTOS_APPEND_SCOPE;
}
