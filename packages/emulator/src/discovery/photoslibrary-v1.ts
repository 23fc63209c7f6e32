import { PHOTOS_SCOPES } from "../api-scopes.js";
import { documentHeader, pathParameter, queryParameter } from "./common.js";

/**
 * The Photos Library API v1 discovery document, cut down to what the emulator serves: albums
 * (create, get, list) and mediaItems (batchCreate, get, list, search). Uploads (`/v1/uploads`)
 * are a raw endpoint outside discovery, as at Google.
 */
export function photosLibraryV1Discovery(rootUrl: string) {
  return {
    ...documentHeader({
      id: "photoslibrary:v1",
      name: "photoslibrary",
      version: "v1",
      title: "Photos Library API",
      description: "Manage photos, videos, and albums in Google Photos (local emulator).",
      documentationLink: "https://developers.google.com/photos/",
      rootUrl,
      servicePath: "",
      batchPath: "batch",
    }),
    canonicalName: "Photos Library",
    auth: { oauth2: { scopes: SCOPES } },
    schemas: SCHEMAS,
    resources: {
      albums: { methods: ALBUMS_METHODS },
      mediaItems: { methods: MEDIA_ITEMS_METHODS },
    },
  };
}

const [APPEND] = PHOTOS_SCOPES.append;
const [READ, EDIT] = PHOTOS_SCOPES.read;
const SCOPES = {
  [APPEND]: { description: "Add to your Google Photos library" },
  [EDIT]: {
    description:
      "Edit the info in your photos, videos, and albums created within this app, including titles, descriptions, and covers",
  },
  [READ]: { description: "View your Google Photos library" },
};

const pageToken = queryParameter(
  "string",
  "A continuation token to get the next page of the results. Set it to the nextPageToken of the previous response.",
);

const ALBUMS_METHODS = {
  create: {
    id: "photoslibrary.albums.create",
    path: "v1/albums",
    flatPath: "v1/albums",
    httpMethod: "POST",
    description: "Creates an album in a user's Google Photos library.",
    parameters: {},
    parameterOrder: [],
    request: { $ref: "CreateAlbumRequest" },
    response: { $ref: "Album" },
    scopes: PHOTOS_SCOPES.append,
  },
  get: {
    id: "photoslibrary.albums.get",
    path: "v1/albums/{+albumId}",
    flatPath: "v1/albums/{albumsId}",
    httpMethod: "GET",
    description: "Returns the app created album based on the specified albumId.",
    parameters: {
      albumId: pathParameter("Required. Identifier of the album to be requested.", {
        pattern: "^[^/]+$",
      }),
    },
    parameterOrder: ["albumId"],
    response: { $ref: "Album" },
    scopes: PHOTOS_SCOPES.read,
  },
  list: {
    id: "photoslibrary.albums.list",
    path: "v1/albums",
    flatPath: "v1/albums",
    httpMethod: "GET",
    description: "Lists all albums created by your app.",
    parameters: {
      excludeNonAppCreatedData: queryParameter(
        "boolean",
        "If set, the results exclude media items that were not created by this app. Defaults to false (all albums are returned).",
      ),
      pageSize: queryParameter(
        "integer",
        "Maximum number of albums to return in the response. The default is 20 and the maximum is 50.",
      ),
      pageToken,
    },
    parameterOrder: [],
    response: { $ref: "ListAlbumsResponse" },
    scopes: PHOTOS_SCOPES.read,
  },
};

const MEDIA_ITEMS_METHODS = {
  batchCreate: {
    id: "photoslibrary.mediaItems.batchCreate",
    path: "v1/mediaItems:batchCreate",
    flatPath: "v1/mediaItems:batchCreate",
    httpMethod: "POST",
    description: "Creates one or more media items in a user's Google Photos library.",
    parameters: {},
    parameterOrder: [],
    request: { $ref: "BatchCreateMediaItemsRequest" },
    response: { $ref: "BatchCreateMediaItemsResponse" },
    scopes: PHOTOS_SCOPES.append,
  },
  get: {
    id: "photoslibrary.mediaItems.get",
    path: "v1/mediaItems/{+mediaItemId}",
    flatPath: "v1/mediaItems/{mediaItemsId}",
    httpMethod: "GET",
    description: "Returns the app created media item for the specified media item identifier.",
    parameters: {
      mediaItemId: pathParameter("Required. Identifier of the media item to be requested.", {
        pattern: "^[^/]+$",
      }),
    },
    parameterOrder: ["mediaItemId"],
    response: { $ref: "MediaItem" },
    scopes: PHOTOS_SCOPES.read,
  },
  list: {
    id: "photoslibrary.mediaItems.list",
    path: "v1/mediaItems",
    flatPath: "v1/mediaItems",
    httpMethod: "GET",
    description: "List all media items created by this app from a user's Google Photos library.",
    parameters: {
      pageSize: queryParameter(
        "integer",
        "Maximum number of media items to return in the response. The default is 25, the maximum is 100.",
      ),
      pageToken,
    },
    parameterOrder: [],
    response: { $ref: "ListMediaItemsResponse" },
    scopes: PHOTOS_SCOPES.read,
  },
  search: {
    id: "photoslibrary.mediaItems.search",
    path: "v1/mediaItems:search",
    flatPath: "v1/mediaItems:search",
    httpMethod: "POST",
    description: "Searches for app created media items in a user's Google Photos library.",
    parameters: {},
    parameterOrder: [],
    request: { $ref: "SearchMediaItemsRequest" },
    response: { $ref: "SearchMediaItemsResponse" },
    scopes: PHOTOS_SCOPES.read,
  },
};

const string = (description: string, extra: Record<string, unknown> = {}) => ({
  type: "string",
  description,
  ...extra,
});
const object = (id: string, description: string, properties: Record<string, unknown>) => ({
  id,
  type: "object",
  description,
  properties,
});
const list = (ref: string, description: string) => ({
  type: "array",
  description,
  items: { $ref: ref },
});

const SCHEMAS = {
  Album: object("Album", "Representation of an album in Google Photos.", {
    id: string("Identifier for the album."),
    title: string("Name of the album displayed to the user in their Google Photos account."),
    productUrl: string("Output only. Google Photos URL for the album."),
    isWriteable: {
      type: "boolean",
      description: "Output only. True if you can create media items in this album.",
    },
    mediaItemsCount: string("Output only. The number of media items in the album.", {
      format: "int64",
    }),
    coverPhotoBaseUrl: string("Output only. A URL to the cover photo's bytes."),
    coverPhotoMediaItemId: string("Identifier for the media item associated with the cover photo."),
  }),
  CreateAlbumRequest: object("CreateAlbumRequest", "Request to create an album in Google Photos.", {
    album: { $ref: "Album", description: "Required. The album to be created." },
  }),
  ListAlbumsResponse: object("ListAlbumsResponse", "List of albums requested.", {
    albums: list("Album", "Output only. List of albums created by the app."),
    nextPageToken: string("Output only. Token to use to get the next set of albums."),
  }),
  MediaItem: object(
    "MediaItem",
    "Representation of a media item (such as a photo or video) in Google Photos.",
    {
      id: string("Identifier for the media item."),
      description: string("Description of the media item."),
      productUrl: string("Google Photos URL for the media item."),
      baseUrl: string("A URL to the media item's bytes."),
      mimeType: string("MIME type of the media item."),
      mediaMetadata: { $ref: "MediaMetadata", description: "Metadata related to the media item." },
      filename: string("Filename of the media item."),
    },
  ),
  MediaMetadata: object("MediaMetadata", "Metadata for a media item.", {
    creationTime: string("Time when the media item was first created.", {
      format: "google-datetime",
    }),
    width: string("Original width (in pixels) of the media item.", { format: "int64" }),
    height: string("Original height (in pixels) of the media item.", { format: "int64" }),
    photo: { $ref: "Photo", description: "Metadata for a photo media type." },
    video: { $ref: "Video", description: "Metadata for a video media type." },
  }),
  Photo: object("Photo", "Metadata that is specific to a photo.", {}),
  Video: object("Video", "Metadata that is specific to a video.", {
    status: string("Processing status of the video.", {
      enum: ["UNSPECIFIED", "PROCESSING", "READY", "FAILED"],
    }),
  }),
  BatchCreateMediaItemsRequest: object(
    "BatchCreateMediaItemsRequest",
    "Request to create one or more media items in a user's Google Photos library.",
    {
      albumId: string("Identifier of the album where the media items are added."),
      newMediaItems: list(
        "NewMediaItem",
        "Required. List of media items to be created. Maximum 50 media items per call.",
      ),
      albumPosition: {
        $ref: "AlbumPosition",
        description: "Position in the album where the media items are added.",
      },
    },
  ),
  NewMediaItem: object(
    "NewMediaItem",
    "New media item that's created in a user's Google Photos account.",
    {
      description: string("Description of the media item."),
      simpleMediaItem: {
        $ref: "SimpleMediaItem",
        description: "A new media item that has been uploaded via the included uploadToken.",
      },
    },
  ),
  SimpleMediaItem: object(
    "SimpleMediaItem",
    "A simple media item to be created in Google Photos via an upload token.",
    {
      uploadToken: string("Token identifying the media bytes that have been uploaded to Google."),
      fileName: string("File name with extension of the media item."),
    },
  ),
  AlbumPosition: object("AlbumPosition", "Specifies a position in an album.", {
    position: string("Type of position, for a media or enrichment item.", {
      enum: [
        "POSITION_TYPE_UNSPECIFIED",
        "FIRST_IN_ALBUM",
        "LAST_IN_ALBUM",
        "AFTER_MEDIA_ITEM",
        "AFTER_ENRICHMENT_ITEM",
      ],
    }),
    relativeMediaItemId: string("The media item to which the position is relative to."),
    relativeEnrichmentItemId: string("The enrichment item to which the position is relative to."),
  }),
  BatchCreateMediaItemsResponse: object(
    "BatchCreateMediaItemsResponse",
    "List of media items created.",
    {
      newMediaItemResults: list("NewMediaItemResult", "Output only. List of media items created."),
    },
  ),
  NewMediaItemResult: object("NewMediaItemResult", "Result of creating a new media item.", {
    uploadToken: string("The upload token used to create this new (simple) media item."),
    status: {
      $ref: "Status",
      description:
        "If an error occurred during the creation of this media item, this field is populated with information related to the error.",
    },
    mediaItem: { $ref: "MediaItem", description: "Media item created with the upload token." },
  }),
  Status: object("Status", "The Status type defines a logical error model (google.rpc.Status).", {
    code: {
      type: "integer",
      format: "int32",
      description: "The status code, which should be an enum value of google.rpc.Code.",
    },
    message: string("A developer-facing error message, which should be in English."),
    details: {
      type: "array",
      description: "A list of messages that carry the error details.",
      items: {
        type: "object",
        additionalProperties: { type: "any", description: "Properties of the object." },
      },
    },
  }),
  SearchMediaItemsRequest: object(
    "SearchMediaItemsRequest",
    "Request to search for media items in a user's library.",
    {
      albumId: string("Identifier of an album."),
      pageSize: {
        type: "integer",
        format: "int32",
        description:
          "Maximum number of media items to return in the response. The default is 25, the maximum is 100.",
      },
      pageToken: string("A continuation token to get the next page of the results."),
    },
  ),
  SearchMediaItemsResponse: object(
    "SearchMediaItemsResponse",
    "List of media items that match the search parameters.",
    {
      mediaItems: list(
        "MediaItem",
        "Output only. List of media items that match the search parameters.",
      ),
      nextPageToken: string("Use this token to get the next set of media items."),
    },
  ),
  ListMediaItemsResponse: object(
    "ListMediaItemsResponse",
    "List of all media items from the user's Google Photos library.",
    {
      mediaItems: list("MediaItem", "Output only. List of media items in the user's library."),
      nextPageToken: string("Output only. Token to use to get the next set of media items."),
    },
  ),
};
