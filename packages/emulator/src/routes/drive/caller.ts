import type { FastifyReply, FastifyRequest } from "fastify";
import { requireAccessToken } from "../../api-auth.js";
import { fieldMaskOf } from "../../api-params.js";
import { DRIVE_APPDATA_SCOPE } from "../../api-scopes.js";
import { sendInvalidParameter } from "../../drive-errors.js";
import type { AppDataOwner } from "../../drive-store.js";
import type { AccessTokenRecord } from "../../model.js";
import type { EmulatorState } from "../../state.js";

/** Who calls: the token, the folder it owns, and whether its scopes reach that folder. */
export interface Caller {
  readonly token: AccessTokenRecord;
  readonly owner: AppDataOwner;
  readonly hasAppData: boolean;
}

/** Who calls a Drive route: undefined once the answer (401, 403 or 400) has been sent. */
export type DriveCaller = (
  request: FastifyRequest,
  reply: FastifyReply,
  scopes: readonly string[],
) => Caller | undefined;

/** Reads the caller's access token, which must hold one of `scopes`, and names its folder. */
export function driveCaller(state: EmulatorState): DriveCaller {
  return (request, reply, scopes) => {
    const token = requireAccessToken(state, request, reply, scopes);
    if (token === undefined) return undefined;
    // A bad `fields` is refused before anything is written.
    const fields = fieldMaskOf(request);
    if (!fields.ok) {
      sendInvalidParameter(reply, "fields", `Invalid field selection ${fields.fields}`);
      return undefined;
    }
    return {
      token,
      owner: { sub: token.sub, clientId: token.clientId },
      hasAppData: token.scopes.includes(DRIVE_APPDATA_SCOPE),
    };
  };
}
