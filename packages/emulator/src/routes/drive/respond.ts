import type { FastifyReply, FastifyRequest } from "fastify";
import { fieldMaskOf } from "../../api-params.js";
import { sendBadRequest, sendDriveError, sendInvalidParameter } from "../../drive-errors.js";
import { applyFieldMask } from "../../fields.js";

export type Json = Record<string, unknown>;

/** Sends a resource through `fields`, or through Drive's default projection without it. */
export function sendResource(
  request: FastifyRequest,
  reply: FastifyReply,
  resource: Json,
  projection: (full: Json) => Json,
) {
  const fields = fieldMaskOf(request);
  if (!fields.ok) {
    return sendInvalidParameter(reply, "fields", `Invalid field selection ${fields.fields}`);
  }
  const body =
    fields.mask === undefined ? projection(resource) : applyFieldMask(resource, fields.mask);
  return reply.type("application/json; charset=UTF-8").send(body);
}

export function sendNotDownloadable(reply: FastifyReply) {
  return sendDriveError(
    reply,
    403,
    "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
    { reason: "fileNotDownloadable", location: "alt", locationType: "parameter" },
  );
}

export function sendFolderNotWritable(reply: FastifyReply, fileId: string) {
  return sendDriveError(
    reply,
    403,
    `The user does not have sufficient permissions for file ${fileId}.`,
    {
      reason: "insufficientFilePermissions",
    },
  );
}

export function sendFolderContent(reply: FastifyReply) {
  return sendBadRequest(reply, "A folder cannot have content.");
}

export function sendTooManyParents(reply: FastifyReply) {
  return sendDriveError(reply, 403, "Increasing the number of parents is not allowed.", {
    reason: "cannotAddParent",
  });
}

export function sendNotModelled(reply: FastifyReply) {
  return sendBadRequest(
    reply,
    'The emulator models only the application data folder: set parents to ["appDataFolder"].',
  );
}
