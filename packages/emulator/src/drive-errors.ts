import type { FastifyReply } from "fastify";

/*
 * Drive v3's own errors. Unlike the authentication layer's 401/403 (see google-errors.ts), the
 * Drive backend answers in the older shape, without a `status` string:
 * `{"error":{"code":404,"message":"File not found: X.","errors":[{...,"reason":"notFound"}]}}`.
 */

/** The single item of a Drive error's `errors` list, less the message it repeats. */
export interface DriveErrorItem {
  reason: string;
  domain?: string;
  location?: string;
  locationType?: string;
}

/** Drive's error body: the message is repeated in the single `errors` item, as Google does. */
function driveErrorBody(status: number, message: string, item: DriveErrorItem) {
  return {
    error: {
      code: status,
      message,
      errors: [
        {
          message,
          domain: item.domain ?? "global",
          reason: item.reason,
          ...(item.location ? { location: item.location } : {}),
          ...(item.locationType ? { locationType: item.locationType } : {}),
        },
      ],
    },
  };
}

/** Sends a Drive error with its status and JSON body. */
export function sendDriveError(
  reply: FastifyReply,
  status: number,
  message: string,
  item: DriveErrorItem,
): FastifyReply {
  return reply
    .code(status)
    .type("application/json; charset=UTF-8")
    .send(driveErrorBody(status, message, item));
}

/** 404 for a file that does not exist or that this app cannot see. */
export function sendFileNotFound(reply: FastifyReply, fileId: string): FastifyReply {
  return sendDriveError(reply, 404, `File not found: ${fileId}.`, {
    reason: "notFound",
    location: "fileId",
    locationType: "parameter",
  });
}

/** 400 for a query parameter Drive rejects (`pageToken`, `q`, `spaces`, `fields`, ...). */
export function sendInvalidParameter(
  reply: FastifyReply,
  parameter: string,
  message = "Invalid Value",
): FastifyReply {
  return sendDriveError(reply, 400, message, {
    reason: "invalid",
    location: parameter,
    locationType: "parameter",
  });
}

/** 400 for a body Drive cannot read (a malformed multipart upload, bad metadata). */
export function sendBadRequest(reply: FastifyReply, message: string): FastifyReply {
  return sendDriveError(reply, 400, message, { reason: "badRequest" });
}

/**
 * 403 when the token's scopes do not reach a space the request names: listing My Drive (the
 * default `spaces=drive`) with only `drive.appdata`, or touching `appDataFolder` without it.
 */
export function sendSpacesNotGranted(reply: FastifyReply): FastifyReply {
  return sendDriveError(
    reply,
    403,
    "The granted scopes do not give access to all of the requested spaces.",
    { reason: "insufficientScopes" },
  );
}

/** 403 for what application data files may not do: trash, share, move out of the folder. */
export function sendNotSupportedForAppData(reply: FastifyReply): FastifyReply {
  return sendDriveError(
    reply,
    403,
    "Method not supported for files within the Application Data folder.",
    { reason: "notSupportedForAppDataFolderFiles" },
  );
}
