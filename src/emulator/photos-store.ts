import { randomBytes } from "node:crypto";

/** Who created an album or media item: one user through one OAuth client (the "app"). */
export interface PhotosOwner {
  readonly sub: string;
  readonly clientId: string;
}

export interface Album {
  readonly id: string;
  readonly owner: PhotosOwner;
  readonly title: string;
  /** Media item ids, in album order. */
  readonly mediaItemIds: string[];
}

export interface MediaItem {
  readonly id: string;
  readonly owner: PhotosOwner;
  readonly description: string | undefined;
  readonly filename: string;
  readonly mimeType: string;
  readonly bytes: Buffer;
  readonly createdTimeMs: number;
}

interface PendingUpload {
  readonly owner: PhotosOwner;
  readonly bytes: Buffer;
  readonly mimeType: string | undefined;
  readonly expiresAtMs: number;
}

/** Upload tokens live for a day, as Google documents. */
const UPLOAD_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The Photos Library as the API shows it since 31 March 2025: only what an app created itself.
 * Every read goes through the owner (user and client), so another app's albums and items are
 * not found. Upload tokens are bound to the uploader and work once.
 */
export class PhotosStore {
  private readonly albums = new Map<string, Album>();
  private readonly mediaItems = new Map<string, MediaItem>();
  private readonly uploads = new Map<string, PendingUpload>();

  constructor(private readonly now: () => number) {}

  createAlbum(owner: PhotosOwner, title: string): Album {
    const album: Album = { id: newId(), owner, title, mediaItemIds: [] };
    this.albums.set(album.id, album);
    return album;
  }

  album(owner: PhotosOwner, albumId: string): Album | undefined {
    const album = this.albums.get(albumId);
    return album && sameOwner(album.owner, owner) ? album : undefined;
  }

  /** The owner's albums, oldest first. */
  albumsOf(owner: PhotosOwner): Album[] {
    return [...this.albums.values()].filter((album) => sameOwner(album.owner, owner));
  }

  /** Keeps uploaded bytes and returns the upload token that stands for them. */
  upload(owner: PhotosOwner, bytes: Buffer, mimeType: string | undefined): string {
    this.sweepUploads();
    // Google's upload tokens are long opaque strings starting "CAIS".
    const token = `CAIS${randomBytes(48).toString("base64url")}`;
    this.uploads.set(token, {
      owner,
      bytes,
      mimeType,
      expiresAtMs: this.now() + UPLOAD_TOKEN_TTL_MS,
    });
    return token;
  }

  /**
   * Takes the bytes an upload token stands for, once; undefined when the token is unknown,
   * expired, already used, or someone else's.
   */
  takeUpload(
    owner: PhotosOwner,
    uploadToken: string,
  ): { bytes: Buffer; mimeType: string | undefined } | undefined {
    const upload = this.uploads.get(uploadToken);
    if (upload === undefined || upload.expiresAtMs <= this.now()) return undefined;
    if (!sameOwner(upload.owner, owner)) return undefined;
    this.uploads.delete(uploadToken);
    return { bytes: upload.bytes, mimeType: upload.mimeType };
  }

  addMediaItem(
    owner: PhotosOwner,
    input: Omit<MediaItem, "id" | "owner" | "createdTimeMs">,
  ): MediaItem {
    const item: MediaItem = { ...input, id: newId(), owner, createdTimeMs: this.now() };
    this.mediaItems.set(item.id, item);
    return item;
  }

  mediaItem(owner: PhotosOwner, mediaItemId: string): MediaItem | undefined {
    const item = this.mediaItems.get(mediaItemId);
    return item && sameOwner(item.owner, owner) ? item : undefined;
  }

  /** Any media item by id, for its (unauthenticated, signed) base URL. */
  mediaItemById(mediaItemId: string): MediaItem | undefined {
    return this.mediaItems.get(mediaItemId);
  }

  /** The owner's media items, oldest first. */
  mediaItemsOf(owner: PhotosOwner): MediaItem[] {
    return [...this.mediaItems.values()].filter((item) => sameOwner(item.owner, owner));
  }

  private sweepUploads(): void {
    const now = this.now();
    for (const [token, upload] of this.uploads) {
      if (upload.expiresAtMs <= now) this.uploads.delete(token);
    }
  }
}

function sameOwner(a: PhotosOwner, b: PhotosOwner): boolean {
  return a.sub === b.sub && a.clientId === b.clientId;
}

/** Photos ids are long base64url strings starting "A". */
function newId(): string {
  return `A${randomBytes(36).toString("base64url")}`;
}
