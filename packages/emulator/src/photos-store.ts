import { randomBytes } from "node:crypto";
import type { BlobRefs } from "./drive-store.js";

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

/** What {@link PhotosStore.export} writes; bytes by reference (see `BlobRefs`). */
export interface PhotosSnapshot {
  albums: Album[];
  mediaItems: Array<Omit<MediaItem, "bytes"> & { bytes: string }>;
  uploads: Array<[string, Omit<PendingUpload, "bytes"> & { bytes: string }]>;
  /** The key of media items' signed `baseUrl`s, base64. */
  urlSecret: string;
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
  /** Keys the signed `baseUrl`s of media items; kept with the store so they outlive a restart. */
  urlSecret: Buffer = randomBytes(32);

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

  /** Albums, media items and unexpired uploads, with bytes stored through `blobs`. */
  export(blobs: BlobRefs): PhotosSnapshot {
    const now = this.now();
    return {
      albums: [...this.albums.values()],
      mediaItems: [...this.mediaItems.values()].map((item) => ({
        ...item,
        bytes: blobs.refOf(item.bytes),
      })),
      uploads: [...this.uploads]
        .filter(([, upload]) => upload.expiresAtMs > now)
        .map(([token, upload]) => [token, { ...upload, bytes: blobs.refOf(upload.bytes) }]),
      urlSecret: this.urlSecret.toString("base64"),
    };
  }

  /**
   * Replaces everything with what {@link export} wrote.
   *
   * @throws TypeError when the snapshot is not shaped as `export` writes it.
   */
  import(snapshot: PhotosSnapshot, blobs: BlobRefs): void {
    for (const part of ["albums", "mediaItems", "uploads"] as const) {
      if (!Array.isArray(snapshot[part])) throw new TypeError(`photos.${part} is not a list`);
    }
    if (typeof snapshot.urlSecret !== "string") throw new TypeError("photos.urlSecret is missing");
    this.urlSecret = Buffer.from(snapshot.urlSecret, "base64");
    this.albums.clear();
    for (const album of snapshot.albums) this.albums.set(album.id, album);
    this.mediaItems.clear();
    for (const item of snapshot.mediaItems) {
      this.mediaItems.set(item.id, { ...item, bytes: blobs.contentOf(item.bytes) });
    }
    this.uploads.clear();
    for (const [token, upload] of snapshot.uploads) {
      this.uploads.set(token, { ...upload, bytes: blobs.contentOf(upload.bytes) });
    }
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
