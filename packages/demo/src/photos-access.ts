import type { AppContext } from "steward";
import { PHOTOS_APPEND_SCOPE, PHOTOS_READ_SCOPE } from "./features.js";
import { PhotosLibrary } from "./photos.js";

/** Where the Photos Library API is, and the user's view of it. */
export interface PhotosAccess {
  /** `https://photoslibrary.googleapis.com`, or the emulator's stand-in. */
  readonly base: string;
  /** Whether a media item's `baseUrl` may be downloaded (no token is sent to it). */
  readonly isMediaUrl: (url: URL) => boolean;
  /** The library as `sub`, through Steward's `fetchAs`. */
  readonly as: (sub: string) => PhotosLibrary;
}

/** The Photos Library as each user, over the service's Google access. */
export function photosAccess(
  steward: Pick<AppContext, "apiBaseUrl" | "isApiUrl" | "fetchAs">,
): PhotosAccess {
  const base = steward.apiBaseUrl("photoslibrary.googleapis.com");
  // Base URLs live on Google's content hosts (lh3.googleusercontent.com), or in emulator mode
  // under the emulator's /lh3/ (no token is sent to them).
  const emulatedMedia = new URL("/lh3/", base);
  const isMediaUrl = (url: URL) =>
    steward.isApiUrl(url) ||
    (url.origin === emulatedMedia.origin && url.pathname.startsWith(emulatedMedia.pathname)) ||
    (url.protocol === "https:" && url.hostname.endsWith(".googleusercontent.com") && !url.port);
  return {
    base,
    isMediaUrl,
    as: (sub) =>
      new PhotosLibrary(
        (url, init) => steward.fetchAs(sub, url, init, { scopes: [photosScopeOf(url, init)] }),
        base,
        isMediaUrl,
      ),
  };
}

/**
 * The scope a Photos Library call needs: reading what the app created, or adding to it. Asking
 * for it makes a cached token that lacks it (minted before the user allowed it, on "Ask again")
 * be refreshed rather than sent to a 403.
 */
function photosScopeOf(url: string | URL, init: RequestInit | undefined): string {
  const method = init?.method ?? "GET";
  const reads = method === "GET" || String(url).includes("/v1/mediaItems:search");
  return reads ? PHOTOS_READ_SCOPE : PHOTOS_APPEND_SCOPE;
}
