import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { queryParam } from "../api-params.js";
import { baseUrlOf } from "../base-url.js";
import { driveV3Discovery } from "../discovery/drive-v3.js";
import { photosLibraryV1Discovery } from "../discovery/photoslibrary-v1.js";
import { sendApiError } from "../google-errors.js";

/** The discovery documents the emulator serves, by API name and version. */
const DOCUMENTS: Readonly<Record<string, (rootUrl: string) => unknown>> = {
  "drive/v3": driveV3Discovery,
  "photoslibrary/v1": photosLibraryV1Discovery,
};

/**
 * Discovery documents for the emulated APIs, with `rootUrl` at the emulator as the request
 * reached it, so discovery-based clients (google-api-python-client) call the emulator:
 * `/discovery/v1/apis/{api}/{version}/rest`, and the per-host form `/$discovery/rest?version=`,
 * where one port serves every host, so `v3` means Drive and `v1` Photos Library.
 */
export const discoveryRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { api: string; version: string } }>(
    "/discovery/v1/apis/:api/:version/rest",
    (request, reply) =>
      sendDocument(request, reply, `${request.params.api}/${request.params.version}`),
  );
  app.get("/$discovery/rest", (request, reply) => {
    const version = queryParam(request, "version");
    const api = version === "v3" ? "drive/v3" : version === "v1" ? "photoslibrary/v1" : "";
    return sendDocument(request, reply, api);
  });
};

function sendDocument(request: FastifyRequest, reply: FastifyReply, key: string) {
  const document = Object.hasOwn(DOCUMENTS, key) ? DOCUMENTS[key] : undefined;
  if (document === undefined) return sendApiError(reply, 404, "Requested entity was not found.");
  return reply.type("application/json; charset=UTF-8").send(document(`${baseUrlOf(request)}/`));
}
