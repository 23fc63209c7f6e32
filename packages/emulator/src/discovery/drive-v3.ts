import { DRIVE_METHOD_SCOPES } from "../api-scopes.js";
import { documentHeader, pathParameter, queryParameter } from "./common.js";

/**
 * Drive API v3's discovery document, cut down to the methods the emulator serves (files.create,
 * get, list, update, delete) with Google's ids, paths, parameters and upload protocols, and with
 * `rootUrl` at the emulator, so that discovery-based clients call the emulator.
 */
export function driveV3Discovery(rootUrl: string) {
  return {
    ...documentHeader({
      id: "drive:v3",
      name: "drive",
      version: "v3",
      title: "Google Drive API",
      description:
        "The Google Drive API allows clients to access resources from Google Drive. (Local emulator: the application data folder only.)",
      documentationLink: "https://developers.google.com/workspace/drive/",
      rootUrl,
      servicePath: "drive/v3/",
      batchPath: "batch/drive/v3",
    }),
    auth: { oauth2: { scopes: SCOPES } },
    schemas: SCHEMAS,
    resources: { files: { methods: FILES_METHODS } },
  };
}

const SCOPE = "https://www.googleapis.com/auth/";
const SCOPES = {
  [`${SCOPE}drive`]: {
    description: "See, edit, create, and delete all of your Google Drive files",
  },
  [`${SCOPE}drive.appdata`]: {
    description: "See, create, and delete its own configuration data in your Google Drive",
  },
  [`${SCOPE}drive.file`]: {
    description:
      "See, edit, create, and delete only the specific Google Drive files you use with this app",
  },
  [`${SCOPE}drive.metadata`]: {
    description: "View and manage metadata of files in your Google Drive",
  },
  [`${SCOPE}drive.metadata.readonly`]: {
    description: "See information about your Google Drive files",
  },
  [`${SCOPE}drive.photos.readonly`]: {
    description: "View the photos, videos and albums in your Google Photos",
  },
  [`${SCOPE}drive.readonly`]: { description: "See and download all your Google Drive files" },
  [`${SCOPE}drive.scripts`]: { description: "Modify your Google Apps Script scripts' behavior" },
};

const fileId = pathParameter("The ID of the file.");
const supportsAllDrives = queryParameter(
  "boolean",
  "Whether the requesting application supports both My Drives and shared drives.",
  { default: "false" },
);
const keepRevisionForever = queryParameter(
  "boolean",
  "Whether to set the 'keepForever' field in the new head revision.",
  { default: "false" },
);
const useContentAsIndexableText = queryParameter(
  "boolean",
  "Whether to use the uploaded content as indexable text.",
  { default: "false" },
);

function mediaUpload(path: string) {
  return {
    accept: ["*/*"],
    maxSize: "5497558138880",
    protocols: {
      simple: { multipart: true, path },
      resumable: { multipart: true, path: `/resumable${path}` },
    },
  };
}

const FILES_METHODS = {
  create: {
    id: "drive.files.create",
    path: "files",
    flatPath: "files",
    httpMethod: "POST",
    description: "Creates a file.",
    parameters: {
      ignoreDefaultVisibility: queryParameter(
        "boolean",
        "Whether to ignore the domain's default visibility settings for the created file.",
        { default: "false" },
      ),
      keepRevisionForever,
      supportsAllDrives,
      useContentAsIndexableText,
    },
    parameterOrder: [],
    request: { $ref: "File" },
    response: { $ref: "File" },
    scopes: DRIVE_METHOD_SCOPES.write,
    supportsMediaUpload: true,
    mediaUpload: mediaUpload("/upload/drive/v3/files"),
  },
  delete: {
    id: "drive.files.delete",
    path: "files/{fileId}",
    flatPath: "files/{fileId}",
    httpMethod: "DELETE",
    description: "Permanently deletes a file owned by the user without moving it to the trash.",
    parameters: { fileId, supportsAllDrives },
    parameterOrder: ["fileId"],
    scopes: DRIVE_METHOD_SCOPES.write,
  },
  get: {
    id: "drive.files.get",
    path: "files/{fileId}",
    flatPath: "files/{fileId}",
    httpMethod: "GET",
    description: "Gets a file's metadata or content by ID.",
    parameters: {
      acknowledgeAbuse: queryParameter(
        "boolean",
        "Whether the user is acknowledging the risk of downloading known malware or other abusive files. This is only applicable when the `alt` parameter is set to `media`.",
        { default: "false" },
      ),
      fileId,
      supportsAllDrives,
    },
    parameterOrder: ["fileId"],
    response: { $ref: "File" },
    scopes: DRIVE_METHOD_SCOPES.read,
    supportsMediaDownload: true,
    useMediaDownloadService: true,
  },
  list: {
    id: "drive.files.list",
    path: "files",
    flatPath: "files",
    httpMethod: "GET",
    description: "Lists the user's files.",
    parameters: {
      includeItemsFromAllDrives: queryParameter(
        "boolean",
        "Whether both My Drive and shared drive items should be included in results.",
        { default: "false" },
      ),
      orderBy: queryParameter(
        "string",
        "A comma-separated list of sort keys ('createdTime', 'folder', 'modifiedTime', 'name', 'name_natural', 'quotaBytesUsed'), each optionally followed by 'desc'.",
      ),
      pageSize: queryParameter(
        "integer",
        "The maximum number of files to return per page. Partial or empty result pages are possible even before the end of the files list has been reached.",
        { default: "100", minimum: "1", maximum: "1000" },
      ),
      pageToken: queryParameter(
        "string",
        "The token for continuing a previous list request on the next page. This should be set to the value of 'nextPageToken' from the previous response.",
      ),
      q: queryParameter("string", "A query for filtering the file results."),
      spaces: queryParameter(
        "string",
        "A comma-separated list of spaces to query within the corpora. Supported values are 'drive' and 'appDataFolder'.",
        { default: "drive" },
      ),
      supportsAllDrives,
    },
    parameterOrder: [],
    response: { $ref: "FileList" },
    scopes: DRIVE_METHOD_SCOPES.read,
  },
  update: {
    id: "drive.files.update",
    path: "files/{fileId}",
    flatPath: "files/{fileId}",
    httpMethod: "PATCH",
    description: "Updates a file's metadata and/or content. This method supports patch semantics.",
    parameters: {
      addParents: queryParameter("string", "A comma-separated list of parent IDs to add."),
      fileId,
      keepRevisionForever,
      removeParents: queryParameter("string", "A comma-separated list of parent IDs to remove."),
      supportsAllDrives,
      useContentAsIndexableText,
    },
    parameterOrder: ["fileId"],
    request: { $ref: "File" },
    response: { $ref: "File" },
    scopes: DRIVE_METHOD_SCOPES.update,
    supportsMediaUpload: true,
    mediaUpload: mediaUpload("/upload/drive/v3/files/{fileId}"),
  },
};

const string = (description: string) => ({ type: "string", description });
const readOnly = (description: string, extra: Record<string, unknown> = {}) => ({
  type: "string",
  description: `Output only. ${description}`,
  readOnly: true,
  ...extra,
});
const flag = (description: string) => ({ type: "boolean", description });
const stringMap = (description: string) => ({
  type: "object",
  description,
  additionalProperties: { type: "string" },
});

const SCHEMAS = {
  File: {
    id: "File",
    type: "object",
    description: "The metadata for a file.",
    properties: {
      kind: {
        ...readOnly('Identifies what kind of resource this is. Value: "drive#file".'),
        default: "drive#file",
      },
      id: string("The ID of the file."),
      name: string("The name of the file."),
      mimeType: string("The MIME type of the file."),
      description: string("A short description of the file."),
      parents: {
        type: "array",
        description: "The ID of the parent folder containing the file.",
        items: { type: "string" },
      },
      spaces: {
        type: "array",
        readOnly: true,
        items: { type: "string" },
        description: "Output only. The spaces which contain the file.",
      },
      starred: flag("Whether the user has starred the file."),
      trashed: flag("Whether the file has been trashed."),
      explicitlyTrashed: flag("Output only. Whether the file has been explicitly trashed."),
      version: readOnly("A monotonically increasing version number for the file.", {
        format: "int64",
      }),
      createdTime: {
        type: "string",
        format: "date-time",
        description: "The time at which the file was created (RFC 3339 date-time).",
      },
      modifiedTime: {
        type: "string",
        format: "date-time",
        description: "The last time the file was modified by anyone (RFC 3339 date-time).",
      },
      modifiedByMeTime: {
        type: "string",
        format: "date-time",
        description: "The last time the file was modified by the user (RFC 3339 date-time).",
      },
      modifiedByMe: flag("Output only. Whether the file has been modified by this user."),
      ownedByMe: flag("Output only. Whether the user owns the file."),
      originalFilename: string("The original filename of the uploaded content if available."),
      fullFileExtension: readOnly("The full file extension extracted from the name field."),
      fileExtension: readOnly("The final component of fullFileExtension."),
      size: readOnly("Size in bytes of blobs and first party editor files.", { format: "int64" }),
      quotaBytesUsed: readOnly("The number of storage quota bytes used by the file.", {
        format: "int64",
      }),
      md5Checksum: readOnly("The MD5 checksum for the content of the file."),
      sha1Checksum: readOnly("The SHA1 checksum associated with this file, if available."),
      sha256Checksum: readOnly("The SHA256 checksum associated with this file, if available."),
      headRevisionId: readOnly("The ID of the file's head revision."),
      appProperties: stringMap(
        "A collection of arbitrary key-value pairs which are private to the requesting app.",
      ),
      properties: stringMap(
        "A collection of arbitrary key-value pairs which are visible to all apps.",
      ),
    },
  },
  FileList: {
    id: "FileList",
    type: "object",
    description: "A list of files.",
    properties: {
      kind: {
        ...readOnly('Identifies what kind of resource this is. Value: "drive#fileList".'),
        default: "drive#fileList",
      },
      nextPageToken: string("The page token for the next page of files."),
      incompleteSearch: flag("Whether the search process was incomplete."),
      files: { type: "array", description: "The list of files.", items: { $ref: "File" } },
    },
  },
};
