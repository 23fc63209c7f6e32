import { type AppDataFolder, checksums, type DriveFile, FOLDER_MIME_TYPE } from "./drive-store.js";

/**
 * Drive v3's JSON for files (Google's field names), and the reading of the metadata a client
 * sends. Without `fields`, Drive v3 answers only `kind`, `id`, `name` and `mimeType`.
 */

const APP_DATA_FOLDER_NAME = "Application Data";

type Json = Record<string, unknown>;

/** Every field the emulator knows for a file, in Drive's names. */
export function fileResource(file: DriveFile): Json {
  const isFolder = file.mimeType === FOLDER_MIME_TYPE;
  const body: Json = {
    kind: "drive#file",
    id: file.id,
    name: file.name,
    mimeType: file.mimeType,
    ...(file.description === undefined ? {} : { description: file.description }),
    starred: false,
    trashed: false,
    explicitlyTrashed: false,
    parents: [file.parentId],
    spaces: ["appDataFolder"],
    version: String(file.version),
    createdTime: new Date(file.createdTimeMs).toISOString(),
    modifiedTime: new Date(file.modifiedTimeMs).toISOString(),
    modifiedByMeTime: new Date(file.modifiedTimeMs).toISOString(),
    modifiedByMe: true,
    ownedByMe: true,
    quotaBytesUsed: isFolder ? "0" : String(file.content.length),
    ...(Object.keys(file.appProperties).length > 0 ? { appProperties: file.appProperties } : {}),
    ...(Object.keys(file.properties).length > 0 ? { properties: file.properties } : {}),
  };
  if (!isFolder) {
    const sums = checksums(file.content);
    const originalFilename = file.originalFilename ?? file.name;
    const dot = originalFilename.lastIndexOf(".");
    Object.assign(body, {
      originalFilename,
      ...(dot > 0
        ? {
            fullFileExtension: originalFilename.slice(originalFilename.indexOf(".", 1) + 1),
            fileExtension: originalFilename.slice(dot + 1),
          }
        : {}),
      size: String(file.content.length),
      md5Checksum: sums.md5,
      sha1Checksum: sums.sha1,
      sha256Checksum: sums.sha256,
      headRevisionId: `0B${sums.md5.slice(0, 24)}`,
    });
  }
  return body;
}

/** The application data folder itself, as `files.get('appDataFolder')` shows it. */
export function folderResource(folder: AppDataFolder): Json {
  const created = new Date(folder.createdTimeMs).toISOString();
  return {
    kind: "drive#file",
    id: folder.id,
    name: APP_DATA_FOLDER_NAME,
    mimeType: FOLDER_MIME_TYPE,
    starred: false,
    trashed: false,
    explicitlyTrashed: false,
    spaces: ["appDataFolder"],
    version: "1",
    createdTime: created,
    modifiedTime: created,
    ownedByMe: true,
    quotaBytesUsed: "0",
  };
}

/** Drive's default projection when no `fields` is given. */
export function defaultProjection(resource: Json): Json {
  const { kind, id, name, mimeType } = resource;
  return { kind, id, name, mimeType };
}

/** The writable metadata of a file, as a client sends it (create, update, multipart part). */
export interface FileMetadata {
  name?: string;
  mimeType?: string;
  description?: string;
  parents?: string[];
  appProperties?: Record<string, string | null>;
  properties?: Record<string, string | null>;
  originalFilename?: string;
  trashed?: boolean;
}

const MIME_TYPE_SHAPE = /^[\w.+-]+\/[\w.+-]+$/;

/**
 * Reads and type-checks client metadata. Fields the emulator does not model are ignored, as
 * Drive ignores read-only ones; a wrongly typed known field is an error naming the field.
 */
export function parseFileMetadata(
  raw: unknown,
): { ok: true; metadata: FileMetadata } | { ok: false; field: string } {
  if (raw === undefined || raw === null) return { ok: true, metadata: {} };
  if (typeof raw !== "object" || Array.isArray(raw)) return { ok: false, field: "resource" };
  const input = raw as Record<string, unknown>;
  const metadata: FileMetadata = {};
  for (const field of ["name", "description", "originalFilename"] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== "string" || value.length > 32_768) return { ok: false, field };
    metadata[field] = value;
  }
  if (input.mimeType !== undefined) {
    if (typeof input.mimeType !== "string" || !MIME_TYPE_SHAPE.test(input.mimeType)) {
      return { ok: false, field: "mimeType" };
    }
    metadata.mimeType = input.mimeType;
  }
  if (input.parents !== undefined) {
    const parents = input.parents;
    if (!Array.isArray(parents) || !parents.every((p) => typeof p === "string" && p !== "")) {
      return { ok: false, field: "parents" };
    }
    metadata.parents = parents as string[];
  }
  for (const field of ["appProperties", "properties"] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (!isStringMap(value)) return { ok: false, field };
    metadata[field] = value;
  }
  if (input.trashed !== undefined) {
    if (typeof input.trashed !== "boolean") return { ok: false, field: "trashed" };
    metadata.trashed = input.trashed;
  }
  return { ok: true, metadata };
}

/** Applies a patch to (app)properties: a key set to null is removed, as Drive does. */
export function mergeProperties(
  current: Readonly<Record<string, string>>,
  patch: Readonly<Record<string, string | null>> | undefined,
): Record<string, string> {
  const out = { ...current };
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

function isStringMap(value: unknown): value is Record<string, string | null> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(
    ([key, item]) => key !== "" && (item === null || typeof item === "string"),
  );
}
