import { StewardError } from "steward";

/** `fetch` to a Google API as one user (Steward's `fetchAs`, or a job's `google.fetch`). */
export type GoogleFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface PhotosAlbum {
  readonly id: string;
  readonly title: string;
}

export interface PhotosItem {
  readonly id: string;
  readonly filename: string;
  readonly mimeType: string;
  /** Where the bytes are, for an hour; needs no token. */
  readonly baseUrl: string | undefined;
  readonly description: string | undefined;
}

/** The demo never moves a file larger than this: 20 MiB. */
export const MAX_PHOTO_BYTES = 20 * 1024 * 1024;

/**
 * The slice of the Photos Library API the demo uses, as one user: albums and media items the app
 * created (the only ones the API shows since March 2025), raw uploads and `batchCreate`.
 *
 * @example
 *   const photos = new PhotosLibrary((url, init) => steward.fetchAs(sub, url, init), base);
 *   const album = await photos.createAlbum("Enhanced");
 */
export class PhotosLibrary {
  /**
   * @param apiBase `https://photoslibrary.googleapis.com`, or the emulator's base URL.
   * @param isMediaUrl whether a `baseUrl` may be downloaded (Google's content hosts only).
   */
  constructor(
    private readonly fetch: GoogleFetch,
    private readonly apiBase: string,
    private readonly isMediaUrl: (url: URL) => boolean,
  ) {}

  /** Every album the app created for this user, oldest first. */
  async albums(): Promise<PhotosAlbum[]> {
    const albums: PhotosAlbum[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ pageSize: "50" });
      if (pageToken) query.set("pageToken", pageToken);
      const page = await this.json<{ albums?: PhotosAlbum[]; nextPageToken?: string }>(
        `/v1/albums?${query}`,
      );
      for (const album of page.albums ?? []) albums.push({ id: album.id, title: album.title });
      pageToken = page.nextPageToken;
    } while (pageToken);
    return albums;
  }

  /** @throws StewardError `scope_not_granted`, `upstream_rejected` */
  async createAlbum(title: string): Promise<PhotosAlbum> {
    const album = await this.json<PhotosAlbum>("/v1/albums", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ album: { title } }),
    });
    return { id: album.id, title: album.title };
  }

  /** The items of an album, in album order. */
  async itemsOf(albumId: string): Promise<PhotosItem[]> {
    const items: PhotosItem[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.json<{ mediaItems?: PhotosItem[]; nextPageToken?: string }>(
        "/v1/mediaItems:search",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ albumId, pageSize: 100, ...(pageToken ? { pageToken } : {}) }),
        },
      );
      for (const item of page.mediaItems ?? []) items.push(itemOf(item));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return items;
  }

  /** @throws StewardError `not_found` when the app created no such item for this user. */
  async item(mediaItemId: string): Promise<PhotosItem> {
    return itemOf(await this.json<PhotosItem>(`/v1/mediaItems/${encodeURIComponent(mediaItemId)}`));
  }

  /**
   * Uploads bytes (`POST /v1/uploads`, raw) and creates the media item in `albumId`
   * (`mediaItems:batchCreate`). Google asks apps not to create items in parallel for one user;
   * callers serialise per user (see {@link Serial}).
   */
  async upload(
    bytes: Uint8Array,
    input: { mimeType: string; fileName: string; albumId: string; description?: string },
  ): Promise<PhotosItem> {
    const response = await this.fetch(this.url("/v1/uploads"), {
      method: "POST",
      headers: {
        "content-type": "application/octet-stream",
        "x-goog-upload-content-type": input.mimeType,
        "x-goog-upload-protocol": "raw",
      },
      // Node's Buffers may sit on a SharedArrayBuffer in the type system, never here.
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    if (!response.ok) throw await photosError(response);
    const uploadToken = await response.text();
    const created = await this.json<{
      newMediaItemResults?: Array<{ status?: { message?: string }; mediaItem?: PhotosItem }>;
    }>("/v1/mediaItems:batchCreate", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        albumId: input.albumId,
        newMediaItems: [
          {
            description: input.description,
            simpleMediaItem: { uploadToken, fileName: input.fileName },
          },
        ],
      }),
    });
    const result = created.newMediaItemResults?.[0];
    if (!result?.mediaItem) {
      throw new StewardError("upstream_rejected", {
        message: "Google Photos did not create the media item.",
        detail: result?.status?.message,
      });
    }
    return itemOf(result.mediaItem);
  }

  /**
   * The original bytes of an item (`{baseUrl}=d`). Base URLs need no token, and only Google's
   * content hosts are fetched, so a forged URL cannot make us fetch anything else.
   *
   * @throws StewardError `url_not_allowed`, `upstream_rejected`, `payload_too_large`
   */
  async download(
    item: PhotosItem,
    options: { size?: string; signal?: AbortSignal } = {},
  ): Promise<{ bytes: Buffer; mimeType: string }> {
    const base = item.baseUrl && new URL(item.baseUrl);
    if (!base || !this.isMediaUrl(base)) throw new StewardError("url_not_allowed");
    const response = await fetch(`${base.href}=${options.size ?? "d"}`, {
      redirect: "error",
      signal: options.signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new StewardError("upstream_rejected", {
        message: `Google Photos could not serve the photo (${response.status}).`,
      });
    }
    if (Number(response.headers.get("content-length") ?? 0) > MAX_PHOTO_BYTES) {
      await response.body?.cancel();
      throw new StewardError("payload_too_large");
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > MAX_PHOTO_BYTES) throw new StewardError("payload_too_large");
    return { bytes, mimeType: response.headers.get("content-type") ?? item.mimeType };
  }

  private url(path: string): string {
    return `${this.apiBase.replace(/\/+$/, "")}${path}`;
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await this.fetch(this.url(path), init);
    if (!response.ok) throw await photosError(response);
    return (await response.json()) as T;
  }
}

function itemOf(item: PhotosItem): PhotosItem {
  const { id, filename, mimeType, baseUrl, description } = item;
  return { id, filename, mimeType, baseUrl, description };
}

/** Google's `{error: {code, message, status}}` as one of our codes; the body goes to `detail`. */
async function photosError(response: Response): Promise<StewardError> {
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { message?: string; status?: string } }
    | undefined;
  const detail = `photos ${response.status} ${body?.error?.status ?? ""}: ${body?.error?.message ?? ""}`;
  if (response.status === 403 && /scope/i.test(body?.error?.message ?? "")) {
    return new StewardError("scope_not_granted", { detail });
  }
  if (response.status === 404) {
    return new StewardError("not_found", { message: "Google Photos has no such item.", detail });
  }
  return new StewardError("upstream_rejected", {
    message: `Google Photos refused the request (${response.status}).`,
    detail,
  });
}

/** Runs tasks one at a time per key (per user), in the order they were given. */
export class Serial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    // Forget the key once its queue drains, so the map does not grow with every user ever seen.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
