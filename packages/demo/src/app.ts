import type { FastifyPluginAsync } from "fastify";
import type { AppContext, StewardApp } from "steward";
import { AlbumDirectory } from "./albums.js";
import { ENHANCE_JOB, ENHANCE_SCOPES, enhancePhotoHandler } from "./enhance-photo.js";
import { Serial } from "./photos.js";
import { photosAccess } from "./photos-access.js";
import { configRoute } from "./routes/config.js";
import { enhanceRoute } from "./routes/enhance.js";
import { mediaRoute } from "./routes/media.js";
import { pageRoutes } from "./routes/pages.js";
import { uploadRoute } from "./routes/photos.js";
import { sessionRoutes } from "./routes/session.js";
import { stateRoute } from "./routes/state.js";
import { DemoSessions } from "./session.js";
import { demoUser } from "./user.js";

/**
 * The demo photo app: its page at `/` and its API under `/demo/api`. The page signs the user in
 * with the web code flow (popup), posts the code to `POST /demo/api/session`, which exchanges
 * it as `POST /v1/auth/google/code` does and opens a cookie session, uploads photos into an
 * app-created album as the user, and enqueues the enhancing job. Each route is its own plugin,
 * given only what it uses.
 */
export const photoDemoRoutes: FastifyPluginAsync<AppContext> = async (app, steward) => {
  const sessions = new DemoSessions();
  const albums = new AlbumDirectory();
  const serial = new Serial();
  const photos = photosAccess(steward);
  const { jobs } = steward;
  if (jobs) {
    await jobs.define(
      ENHANCE_JOB,
      enhancePhotoHandler({
        photosBase: photos.base,
        isMediaUrl: photos.isMediaUrl,
        albums,
        serial,
      }),
      { retryLimit: 2, retryDelaySeconds: 5, scopes: ENHANCE_SCOPES },
    );
  }
  const user = (request: Parameters<typeof demoUser>[0]) => demoUser(request, sessions, steward);
  const guard = steward.guardBrowserPost;

  await app.register(pageRoutes);
  await app.register(configRoute, { client: steward.client });
  await app.register(sessionRoutes, { sessions, signIn: steward.signIn, guard });
  await app.register(stateRoute, {
    user,
    state: {
      user: steward.user,
      photos: photos.as,
      jobs: jobs && ((owner) => jobs.list({ sub: owner, limit: 20 })),
    },
  });
  await app.register(uploadRoute, {
    user,
    guard,
    storedUser: steward.user,
    photos: photos.as,
    albums,
    serial,
  });
  await app.register(enhanceRoute, { user, guard, jobs });
  await app.register(mediaRoute, { user, photos: photos.as });
};

/**
 * The photo demo as an app mounted on Steward (`steward start --app @steward/photo-demo`). It
 * signs users in through the local emulator's consent page, so it is mounted in emulator mode
 * only.
 */
export const photoDemo: StewardApp = {
  name: "Demo",
  home: "/",
  plugin: photoDemoRoutes,
  emulatorOnly: true,
};
