import type { PhotosAlbum, PhotosLibrary } from "./photos.js";

/** Where the demo puts the photos a user picks. */
export const ORIGINALS_ALBUM = "Steward demo";
/** Where the enhancing job puts its results. */
export const ENHANCED_ALBUM = "Enhanced";

/** Users' albums remembered at once: a demo's memory stays bounded. */
const MAX_REMEMBERED = 10_000;

/**
 * Finds the app's album of a given title for a user, creating it the first time. Found albums
 * are remembered per user, which also lets a user who granted upload but not read access keep
 * adding to one album instead of creating a new one per photo (without read access the API
 * cannot list albums).
 */
export class AlbumDirectory {
  private readonly known = new Map<string, Promise<PhotosAlbum>>();

  /** @param canList whether the user granted a scope that lists the app's albums. */
  named(sub: string, photos: PhotosLibrary, title: string, canList: boolean): Promise<PhotosAlbum> {
    const key = `${sub}\n${title}`;
    const cached = this.known.get(key);
    if (cached) return cached;
    // One lookup per user and title at a time: two jobs must not both create "Enhanced".
    const found = (async () => {
      const existing = canList
        ? (await photos.albums()).find((album) => album.title === title)
        : undefined;
      return existing ?? (await photos.createAlbum(title));
    })();
    this.remember(key, found);
    found.catch(() => {
      if (this.known.get(key) === found) this.known.delete(key);
    });
    return found;
  }

  /** Remembers at most {@link MAX_REMEMBERED} albums, forgetting the oldest first. */
  private remember(key: string, album: Promise<PhotosAlbum>): void {
    this.known.set(key, album);
    if (this.known.size > MAX_REMEMBERED) {
      const oldest = this.known.keys().next().value as string;
      this.known.delete(oldest);
    }
  }

  /** Forgets a remembered album, e.g. after Google refused to add to it (deleted by the user). */
  forget(sub: string, title: string): void {
    this.known.delete(`${sub}\n${title}`);
  }
}
