import type { FastifyReply, FastifyRequest } from "fastify";
import { queryParam, sendMedia } from "../../api-params.js";
import {
  DRIVE_APPDATA_SCOPE,
  DRIVE_FILE_SCOPE,
  DRIVE_FULL_SCOPE,
  DRIVE_METHOD_SCOPES,
} from "../../api-scopes.js";
import {
  sendBadRequest,
  sendDriveError,
  sendFileNotFound,
  sendInvalidParameter,
  sendNotSupportedForAppData,
  sendSpacesNotGranted,
} from "../../drive-errors.js";
import { compileDriveQuery, compileOrderBy } from "../../drive-query.js";
import {
  defaultProjection,
  type FileMetadata,
  fileResource,
  folderResource,
  mergeProperties,
} from "../../drive-resource.js";
import {
  APP_DATA_ALIASES,
  type AppDataStore,
  type DriveFile,
  FOLDER_MIME_TYPE,
} from "../../drive-store.js";
import type { WriteInput } from "../../drive-upload.js";
import { PageTokens } from "../../page-token.js";
import type { Caller } from "./caller.js";
import {
  type Json,
  sendFolderContent,
  sendFolderNotWritable,
  sendNotDownloadable,
  sendNotModelled,
  sendResource,
  sendTooManyParents,
} from "./respond.js";

const SPACES = ["drive", "appDataFolder", "photos"];
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** The Drive methods, over one store. Each sends its answer and returns the reply. */
export class DriveFiles {
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
