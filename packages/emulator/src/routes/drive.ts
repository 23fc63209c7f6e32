import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { requireAccessToken } from "../api-auth.js";
import { fieldMaskOf, queryParam, sendMedia } from "../api-params.js";
import {
  DRIVE_APPDATA_SCOPE,
  DRIVE_FILE_SCOPE,
  DRIVE_FULL_SCOPE,
  DRIVE_METHOD_SCOPES,
} from "../api-scopes.js";
import type { EmulatorContext } from "../context.js";
import {
  sendBadRequest,
  sendDriveError,
  sendFileNotFound,
  sendInvalidParameter,
  sendNotSupportedForAppData,
  sendSpacesNotGranted,
} from "../drive-errors.js";
import { compileDriveQuery, compileOrderBy } from "../drive-query.js";
import {
  defaultProjection,
  type FileMetadata,
  fileResource,
  folderResource,
  mergeProperties,
} from "../drive-resource.js";
import {
  APP_DATA_ALIASES,
  type AppDataOwner,
  type AppDataStore,
  type DriveFile,
  FOLDER_MIME_TYPE,
} from "../drive-store.js";
import { readWriteInput, type WriteInput } from "../drive-upload.js";
import { applyFieldMask } from "../fields.js";
import type { AccessTokenRecord } from "../model.js";
import { PageTokens } from "../page-token.js";
import { driveResumableUploads } from "./drive-resumable.js";

const SPACES = ["drive", "appDataFolder", "photos"];
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** Who calls: the token, the folder it owns, and whether its scopes reach that folder. */
interface Caller {
  readonly token: AccessTokenRecord;
  readonly owner: AppDataOwner;
  readonly hasAppData: boolean;
}

type Json = Record<string, unknown>;

/**
 * Drive API v3 for the application data folder: `files.get` (metadata, and content with
 * `alt=media`), `files.list`, `files.create` (metadata only, or `uploadType=multipart`/`media`),
 * `files.update` (PATCH, with or without media), `files.delete`. Uploads may also be resumable
 * (`uploadType=resumable`: a session URI in `Location`, then `PUT`s to it). Each (user, client) has its own
 * folder, so only the app that created a file sees it. My Drive (`spaces=drive`) is not
 * modelled: it lists as empty and cannot be written to.
 */
export function driveRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const files = new DriveFiles(ctx.drive);
  const resumable = driveResumableUploads(app, files, ctx.state.now);
  const caller = (request: FastifyRequest, reply: FastifyReply, scopes: readonly string[]) => {
    const token = requireAccessToken(ctx.state, request, reply, scopes);
    if (token === undefined) return undefined;
    // A bad `fields` is refused before anything is written.
    const fields = fieldMaskOf(request);
    if (!fields.ok) {
      sendInvalidParameter(reply, "fields", `Invalid field selection ${fields.fields}`);
      return undefined;
    }
    const caller: Caller = {
      token,
      owner: { sub: token.sub, clientId: token.clientId },
      hasAppData: token.scopes.includes(DRIVE_APPDATA_SCOPE),
    };
    return caller;
  };
  type WithId = { Params: { fileId: string } };

  app.get<WithId>("/drive/v3/files/:fileId", (request, reply) => {
    const who = caller(request, reply, DRIVE_METHOD_SCOPES.read);
    return who === undefined ? reply : files.get(who, request.params.fileId, request, reply);
  });
  app.get("/drive/v3/files", (request, reply) => {
    const who = caller(request, reply, DRIVE_METHOD_SCOPES.read);
    return who === undefined ? reply : files.list(who, request, reply);
  });
  app.delete<WithId>("/drive/v3/files/:fileId", (request, reply) => {
    const who = caller(request, reply, DRIVE_METHOD_SCOPES.write);
    return who === undefined ? reply : files.delete(who, request.params.fileId, reply);
  });
  // Writes read every body as bytes: an upload may be of any type, JSON included.
  app.register(async (writes) => {
    writes.removeAllContentTypeParsers();
    writes.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) =>
      done(null, body),
    );
    const write =
      (kind: "metadata" | "upload", scopes: readonly string[]) =>
      (request: FastifyRequest<{ Params: Partial<WithId["Params"]> }>, reply: FastifyReply) => {
        const who = caller(request, reply, scopes);
        if (who === undefined) return reply;
        const { fileId } = request.params;
        if (kind === "upload" && queryParam(request, "uploadType") === "resumable") {
          return resumable.start(who, fileId, request, reply);
        }
        const input = readWriteInput(kind, request, reply);
        if (input === undefined) return reply;
        return fileId === undefined
          ? files.create(who, input, request, reply)
          : files.update(who, fileId, input, request, reply);
      };
    writes.post("/drive/v3/files", write("metadata", DRIVE_METHOD_SCOPES.write));
    writes.patch("/drive/v3/files/:fileId", write("metadata", DRIVE_METHOD_SCOPES.update));
    // `/resumable/upload/...` is the resumable path Drive's discovery document names.
    for (const prefix of ["/upload", "/resumable/upload"]) {
      writes.post(`${prefix}/drive/v3/files`, write("upload", DRIVE_METHOD_SCOPES.write));
      writes.patch(`${prefix}/drive/v3/files/:fileId`, write("upload", DRIVE_METHOD_SCOPES.update));
    }
  });
}

/** The Drive methods, over one store. Each sends its answer and returns the reply. */
class DriveFiles {
  constructor(private readonly store: AppDataStore) {}

  get(who: Caller, fileId: string, request: FastifyRequest, reply: FastifyReply) {
    const alt = queryParam(request, "alt") ?? "json";
    if (alt !== "json" && alt !== "media") return sendInvalidParameter(reply, "alt");
    const target = this.find(who, fileId, reply);
    if (target === undefined) return reply;
    if (target === "folder") {
      if (alt === "media") return sendNotDownloadable(reply);
      return sendResource(
        request,
        reply,
        folderResource(this.store.folder(who.owner)),
        defaultProjection,
      );
    }
    if (alt === "json")
      return sendResource(request, reply, fileResource(target), defaultProjection);
    if (target.mimeType === FOLDER_MIME_TYPE) return sendNotDownloadable(reply);
    return sendMedia(request, reply, target.content, target.mimeType);
  }

  list(who: Caller, request: FastifyRequest, reply: FastifyReply) {
    const spaces = (queryParam(request, "spaces") ?? "drive").split(",").map((s) => s.trim());
    if (!spaces.every((space) => SPACES.includes(space))) {
      return sendInvalidParameter(reply, "spaces");
    }
    const wantsAppData = spaces.includes("appDataFolder");
    const wantsDrive = spaces.some((space) => space !== "appDataFolder");
    const reachesDrive = who.token.scopes.some(
      (scope) => scope !== DRIVE_APPDATA_SCOPE && DRIVE_METHOD_SCOPES.read.includes(scope),
    );
    if ((wantsAppData && !who.hasAppData) || (wantsDrive && !reachesDrive)) {
      return sendSpacesNotGranted(reply);
    }
    const q = queryParam(request, "q") ?? "";
    const matches =
      q.trim() === ""
        ? () => true
        : compileDriveQuery(q, (id) => this.store.resolveId(who.owner, id));
    if (matches === undefined) return sendInvalidParameter(reply, "q");
    const orderBy = queryParam(request, "orderBy");
    const order = compileOrderBy(orderBy);
    if (order === undefined) return sendInvalidParameter(reply, "orderBy");
    const pageSizeParam = queryParam(request, "pageSize");
    const pageSize = pageSizeParam === undefined ? DEFAULT_PAGE_SIZE : Number(pageSizeParam);
    if (!Number.isInteger(pageSize) || pageSize < 1) return sendInvalidParameter(reply, "pageSize");
    const pages = new PageTokens([who.owner, spaces, q, orderBy ?? ""]);
    const offset = pages.decode(queryParam(request, "pageToken"));
    if (offset === undefined) return sendInvalidParameter(reply, "pageToken");

    // My Drive is not modelled, so only the application data space holds files.
    const found = (wantsAppData ? this.store.list(who.owner) : []).filter(matches).sort(order);
    const end = offset + Math.min(pageSize, MAX_PAGE_SIZE);
    const body = {
      kind: "drive#fileList",
      ...(end < found.length ? { nextPageToken: pages.encode(end) } : {}),
      incompleteSearch: false,
      files: found.slice(offset, end).map(fileResource),
    };
    return sendResource(request, reply, body, (full) => ({
      ...full,
      files: (full.files as Json[]).map(defaultProjection),
    }));
  }

  delete(who: Caller, fileId: string, reply: FastifyReply) {
    const target = this.find(who, fileId, reply);
    if (target === undefined) return reply;
    if (target === "folder") return sendFolderNotWritable(reply, fileId);
    this.store.delete(who.owner, target.id);
    return reply.code(204).send();
  }

  /**
   * Whether a create (no `fileId`) or an update with this metadata may go ahead, as checked
   * before a resumable upload's bytes are sent; sends the error and returns false otherwise.
   */
  canWrite(who: Caller, fileId: string | undefined, metadata: FileMetadata, reply: FastifyReply) {
    if (fileId === undefined) return this.createParent(who, metadata, reply) !== undefined;
    const target = this.find(who, fileId, reply);
    if (target === "folder") sendFolderNotWritable(reply, fileId);
    return target !== undefined && target !== "folder";
  }

  create(
    who: Caller,
    input: WriteInput,
    request: FastifyRequest,
    reply: FastifyReply,
    written?: (file: DriveFile) => void,
  ) {
    const { metadata, content } = input;
    const parentId = this.createParent(who, metadata, reply);
    if (parentId === undefined) return reply;
    const mimeType = metadata.mimeType ?? input.contentType ?? "application/octet-stream";
    if (mimeType === FOLDER_MIME_TYPE && content !== undefined) return sendFolderContent(reply);
    const file = this.store.create(who.owner, {
      name: metadata.name ?? "Untitled",
      mimeType,
      description: metadata.description,
      parentId,
      content: content ?? Buffer.alloc(0),
      appProperties: mergeProperties({}, metadata.appProperties),
      properties: mergeProperties({}, metadata.properties),
      originalFilename:
        metadata.originalFilename ?? (content === undefined ? undefined : metadata.name),
    });
    written?.(file);
    return sendResource(request, reply, fileResource(file), defaultProjection);
  }

  /** The folder a new file goes in; undefined once the error is sent. */
  private createParent(who: Caller, metadata: FileMetadata, reply: FastifyReply) {
    if (metadata.trashed === true) return void sendNotSupportedForAppData(reply);
    const parents = metadata.parents ?? [];
    if (parents.length > 1) return void sendTooManyParents(reply);
    const parent = parents[0];
    const canWriteDrive = [DRIVE_FULL_SCOPE, DRIVE_FILE_SCOPE].some((scope) =>
      who.token.scopes.includes(scope),
    );
    if (parent === undefined || parent === "root") {
      // My Drive: out of reach of drive.appdata alone, and not modelled for the others.
      return void (canWriteDrive ? sendNotModelled(reply) : sendSpacesNotGranted(reply));
    }
    if (!who.hasAppData) {
      return void (APP_DATA_ALIASES.includes(parent)
        ? sendSpacesNotGranted(reply)
        : sendFileNotFound(reply, parent));
    }
    const parentId = this.store.resolveId(who.owner, parent);
    if (!this.store.isFolder(who.owner, parentId)) return void sendFileNotFound(reply, parent);
    return parentId;
  }

  update(
    who: Caller,
    fileId: string,
    input: WriteInput,
    request: FastifyRequest,
    reply: FastifyReply,
    written?: (file: DriveFile) => void,
  ) {
    const { metadata, content } = input;
    const target = this.find(who, fileId, reply);
    if (target === undefined) return reply;
    if (target === "folder") return sendFolderNotWritable(reply, fileId);
    if (metadata.trashed === true) return sendNotSupportedForAppData(reply);
    if (metadata.parents !== undefined) {
      return sendDriveError(
        reply,
        403,
        "The parents field is not directly writable in update requests. Use the addParents and removeParents parameters instead.",
        { reason: "fieldNotWritable" },
      );
    }
    const mimeType = metadata.mimeType ?? target.mimeType;
    if (mimeType === FOLDER_MIME_TYPE && content !== undefined) return sendFolderContent(reply);
    const parentId = this.moveTarget(who, target, request, reply);
    if (parentId === undefined) return reply;
    const file = this.store.update(who.owner, target.id, {
      name: metadata.name,
      mimeType,
      description: metadata.description,
      originalFilename: metadata.originalFilename,
      parentId,
      content,
      appProperties: mergeProperties(target.appProperties, metadata.appProperties),
      properties: mergeProperties(target.properties, metadata.properties),
    }) as DriveFile;
    written?.(file);
    return sendResource(request, reply, fileResource(file), defaultProjection);
  }

  /** The parent after `addParents`/`removeParents`; undefined once an error is sent. */
  private moveTarget(
    who: Caller,
    file: DriveFile,
    request: FastifyRequest,
    reply: FastifyReply,
  ): string | undefined {
    const ids = (name: string) =>
      (queryParam(request, name) ?? "")
        .split(",")
        .map((id) => id.trim())
        .filter((id) => id !== "")
        .map((id) => this.store.resolveId(who.owner, id));
    const removed = new Set(ids("removeParents"));
    const kept = removed.has(file.parentId) ? [] : [file.parentId];
    const parents = [...new Set([...kept, ...ids("addParents")])];
    if (parents.length !== 1) {
      // No parent left means leaving the folder; two would be a second parent.
      if (parents.length === 0) sendNotSupportedForAppData(reply);
      else sendTooManyParents(reply);
      return undefined;
    }
    const parentId = parents[0] as string;
    if (parentId === file.parentId) return parentId;
    if (!this.store.isFolder(who.owner, parentId)) {
      sendFileNotFound(reply, parentId);
      return undefined;
    }
    for (let id: string | undefined = parentId; id !== undefined; ) {
      if (id === file.id) {
        sendBadRequest(reply, "A folder cannot be moved into itself or its subfolders.");
        return undefined;
      }
      id = this.store.get(who.owner, id)?.parentId;
    }
    return parentId;
  }

  /**
   * The file, or the application data folder itself, that `fileId` names for this caller. Sends
   * 404 when the caller cannot see it (another app's file; any file without the appdata scope),
   * 403 for the folder's alias without that scope, and returns undefined.
   */
  private find(who: Caller, fileId: string, reply: FastifyReply): DriveFile | "folder" | undefined {
    if (APP_DATA_ALIASES.includes(fileId) && !who.hasAppData) {
      sendSpacesNotGranted(reply);
      return undefined;
    }
    const id = who.hasAppData ? this.store.resolveId(who.owner, fileId) : undefined;
    if (id !== undefined && id === this.store.folder(who.owner).id) return "folder";
    const file = id === undefined ? undefined : this.store.get(who.owner, id);
    if (file === undefined) sendFileNotFound(reply, fileId);
    return file;
  }
}

/** Sends a resource through `fields`, or through Drive's default projection without it. */
function sendResource(
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

function sendNotDownloadable(reply: FastifyReply) {
  return sendDriveError(
    reply,
    403,
    "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
    { reason: "fileNotDownloadable", location: "alt", locationType: "parameter" },
  );
}

function sendFolderNotWritable(reply: FastifyReply, fileId: string) {
  return sendDriveError(
    reply,
    403,
    `The user does not have sufficient permissions for file ${fileId}.`,
    {
      reason: "insufficientFilePermissions",
    },
  );
}

function sendFolderContent(reply: FastifyReply) {
  return sendBadRequest(reply, "A folder cannot have content.");
}

function sendTooManyParents(reply: FastifyReply) {
  return sendDriveError(reply, 403, "Increasing the number of parents is not allowed.", {
    reason: "cannotAddParent",
  });
}

function sendNotModelled(reply: FastifyReply) {
  return sendBadRequest(
    reply,
    'The emulator models only the application data folder: set parents to ["appDataFolder"].',
  );
}
