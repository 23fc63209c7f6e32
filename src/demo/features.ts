import { canonicalScope } from "../shared/index.js";

const PHOTOS = "https://www.googleapis.com/auth/photoslibrary";

/** Upload media and create albums (still granted to any app since March 2025). */
export const PHOTOS_APPEND_SCOPE = `${PHOTOS}.appendonly`;
/** Read the albums and media items this app created, and nothing else of the library. */
export const PHOTOS_READ_SCOPE = `${PHOTOS}.readonly.appcreateddata`;

/** Every scope the demo asks for at sign-in. */
export const DEMO_SCOPES: readonly string[] = Object.freeze([
  "openid",
  "email",
  "profile",
  PHOTOS_APPEND_SCOPE,
  PHOTOS_READ_SCOPE,
]);

/** A part of the demo that works only when the user granted its scope. */
export interface Feature {
  readonly id: "upload" | "view";
  readonly scope: string;
  /** What the user loses without it, as the page says it. */
  readonly title: string;
}

/** The demo's features, each named after what the user can do with it. */
export const FEATURES: readonly Feature[] = Object.freeze([
  {
    id: "upload",
    scope: PHOTOS_APPEND_SCOPE,
    title: "Uploading photos and saving enhanced copies",
  },
  {
    id: "view",
    scope: PHOTOS_READ_SCOPE,
    title: "Showing your albums here and enhancing photos while you are away",
  },
]);

/** Each feature with whether the granted scopes turn it on. */
export function featuresOf(granted: readonly string[]): Array<Feature & { granted: boolean }> {
  const have = new Set(granted.map(canonicalScope));
  return FEATURES.map((feature) => ({ ...feature, granted: have.has(feature.scope) }));
}
