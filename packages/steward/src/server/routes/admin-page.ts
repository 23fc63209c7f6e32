import type { FastifyPluginAsync } from "fastify";
import { servePackageAsset, serveWebAsset } from "../web-assets.js";

/**
 * The admin dashboard at `/admin`: a static page that asks for STEWARD_ADMIN_TOKEN and calls the
 * internal API with it as the bearer. The page holds no data of its own, so serving it is safe
 * in every mode; the shared stylesheet is served here for the demo page too.
 */
export const adminPageRoutes: FastifyPluginAsync = async (app) => {
  await serveWebAsset(app, "/admin", "admin.html");
  await serveWebAsset(app, "/assets/admin.js", "admin.js");
  await serveWebAsset(app, "/assets/style.css", "style.css");
  // The charts' library (uPlot), from its npm package.
  await servePackageAsset(app, "/assets/uPlot.iife.min.js", "uPlot.iife.min.js");
  await servePackageAsset(app, "/assets/uPlot.min.css", "uPlot.min.css");
};
