import type { FastifyRequest } from "fastify";
import { baseUrlOf } from "../../base-url.js";
import type { MediaUrlSigner } from "../../media-url.js";
import type { MediaItem } from "../../photos-store.js";

/** Where media item bytes are served, standing in for lh3.googleusercontent.com. */
export const MEDIA_BASE_PATH = "/lh3/lr";

/** A media item's signed `baseUrl`, on the host this client reached. */
export type MediaBaseUrl = (request: FastifyRequest, item: MediaItem) => string;

export function mediaBaseUrl(signer: MediaUrlSigner): MediaBaseUrl {
  return (request, item) => `${baseUrlOf(request)}${MEDIA_BASE_PATH}/${signer.sign(item.id)}`;
}
