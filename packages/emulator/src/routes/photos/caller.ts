import type { FastifyReply, FastifyRequest } from "fastify";
import { requireAccessToken } from "../../api-auth.js";
import { fieldMaskOf } from "../../api-params.js";
import { sendApiError } from "../../google-errors.js";
import type { PhotosOwner } from "../../photos-store.js";
import type { EmulatorState } from "../../state.js";
import { sendInvalidArgument } from "./respond.js";

/** Who calls a Photos route: undefined once the answer (401, 403 or 400) has been sent. */
export type PhotosCaller = (
  request: FastifyRequest,
  reply: FastifyReply,
  scopes: readonly string[],
) => PhotosOwner | undefined;

/** Reads the caller's access token, checks one of `scopes`, and names the owner (user, client). */
export function photosCaller(state: EmulatorState): PhotosCaller {
  return (request, reply, scopes) => {
    const token = requireAccessToken(state, request, reply, []);
    if (token === undefined) return undefined;
    if (!scopes.some((scope) => token.scopes.includes(scope))) {
      // The Photos API answers a missing scope without Drive's `errors` list.
      reply.header(
        "www-authenticate",
        `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${scopes.join(" ")}"`,
      );
      sendApiError(reply, 403, "Request had insufficient authentication scopes.");
      return undefined;
    }
    // A bad `fields` is refused before anything is written.
    const fields = fieldMaskOf(request);
    if (!fields.ok) {
      sendInvalidArgument(reply, `Invalid field selection ${fields.fields}`);
      return undefined;
    }
    return { sub: token.sub, clientId: token.clientId };
  };
}
