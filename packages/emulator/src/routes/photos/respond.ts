import type { FastifyReply, FastifyRequest } from "fastify";
import { fieldMaskOf } from "../../api-params.js";
import { applyFieldMask } from "../../fields.js";
import { sendApiError } from "../../google-errors.js";
import { PageTokens } from "../../page-token.js";
import { mediaItemResource } from "../../photos-resource.js";
import type { MediaItem } from "../../photos-store.js";

type Json = Record<string, unknown>;

/** Sends JSON through the `fields` selector, if any. */
export function send(request: FastifyRequest, reply: FastifyReply, body: Json) {
  const fields = fieldMaskOf(request);
  if (!fields.ok) return sendInvalidArgument(reply, `Invalid field selection ${fields.fields}`);
  return reply
    .type("application/json; charset=UTF-8")
    .send(fields.mask === undefined ? body : applyFieldMask(body, fields.mask));
}

export function sendInvalidArgument(reply: FastifyReply, message: string) {
  return sendApiError(reply, 400, message);
}

export function sendNotFound(reply: FastifyReply) {
  return sendApiError(reply, 404, "Requested entity was not found.");
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next: { nextPageToken?: string };
}

/** One page of `all`; undefined when the page token was not minted for this `query`. */
export function paginate<T>(
  all: readonly T[],
  query: unknown,
  pageSize: number,
  pageToken: string | undefined,
): Page<T> | undefined {
  const pages = new PageTokens(query);
  const offset = pages.decode(pageToken);
  if (offset === undefined) return undefined;
  const end = offset + pageSize;
  return {
    items: all.slice(offset, end),
    next: end < all.length ? { nextPageToken: pages.encode(end) } : {},
  };
}

export function sendItems(
  request: FastifyRequest,
  reply: FastifyReply,
  page: Page<MediaItem>,
  baseUrl: (item: MediaItem) => string,
) {
  const mediaItems = page.items.map((item) => mediaItemResource(item, baseUrl(item)));
  // An empty page is `{}`, as Google sends it.
  return send(request, reply, { ...(mediaItems.length > 0 ? { mediaItems } : {}), ...page.next });
}
