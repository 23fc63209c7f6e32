import type { FastifyPluginAsync } from "fastify";
import { serveWebFile } from "../web-file.js";

/** The demo page at `/` and its script; the stylesheet is the service's `/assets/style.css`. */
export const pageRoutes: FastifyPluginAsync = async (app) => {
  // The popup's opener must survive the trip to the consent page and back.
  await serveWebFile(app, "/", "index.html", {
    "cross-origin-opener-policy": "same-origin-allow-popups",
  });
  await serveWebFile(app, "/assets/app.js", "app.js");
};
