import type { Static } from "@sinclair/typebox";
import { isStewardError, StewardError } from "../errors.js";
import { publicUser } from "../server/schemas.js";
import type { VaultStore } from "../store/index.js";
import { featuresOf } from "./features.js";
import type { PhotosItem, PhotosLibrary } from "./photos.js";
import type { DemoState, ItemView, JobView } from "./schemas.js";

/** A job as src/jobs reports it; only what the page shows. */
export interface DemoJobStatus {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly createdAt: Date | string;
  readonly completedAt: Date | string | null;
  readonly error: { code: string; message: string } | null;
}

export interface StateDependencies {
  readonly store: VaultStore;
  readonly photos: (sub: string) => PhotosLibrary;
  /** The user's recent jobs, newest first; absent when the service runs no jobs. */
  readonly jobs?: (sub: string) => Promise<DemoJobStatus[]>;
}

/**
 * Everything the demo page shows for `sub`: profile, connection, features, the app's albums with
 * their photos, and recent jobs. A Photos failure (revoked grant, unticked scope) is reported in
 * `photosError` rather than failing the whole page, so the page can say what to do about it.
 *
 * @throws StewardError `unauthenticated` when the user is gone (deleted by an admin).
 */
export async function demoState(
  deps: StateDependencies,
  sub: string,
): Promise<Static<typeof DemoState>> {
  const record = await deps.store.getUser(sub);
  if (record === undefined) {
    throw new StewardError("unauthenticated", { message: "Sign in with Google again." });
  }
  const credential = record.credential;
  const grantedScopes = [...(credential?.grantedScopes ?? [])];
  const features = featuresOf(grantedScopes);
  const status = credential?.status ?? "none";
  let albums: Static<typeof DemoState>["albums"] = [];
  let photosError: Static<typeof DemoState>["photosError"] = null;
  if (status !== "active") {
    photosError = problem(new StewardError("credential_revoked"));
  } else if (features.some((feature) => feature.id === "view" && feature.granted)) {
    try {
      albums = await albumsOf(deps.photos(sub));
    } catch (error) {
      // Ours (revoked, scope, Google refused) are for the page; anything else is a bug: a 500.
      if (!isStewardError(error)) throw error;
      photosError = problem(error);
    }
  }
  return {
    user: publicUser(record),
    connection: {
      status,
      grantedScopes,
      offlineAccess: status === "active" && credential?.hasRefreshToken === true,
    },
    features,
    albums,
    photosError,
    jobs: deps.jobs ? (await deps.jobs(sub)).map(jobView) : [],
    jobsEnabled: deps.jobs !== undefined,
  };
}

async function albumsOf(photos: PhotosLibrary) {
  const albums = await photos.albums();
  return Promise.all(
    albums.map(async (album) => ({
      id: album.id,
      title: album.title,
      items: (await photos.itemsOf(album.id)).map(itemView),
    })),
  );
}

/** An item as the page shows it: its bytes come through the demo API, same origin. */
export function itemView(item: PhotosItem): Static<typeof ItemView> {
  return {
    id: item.id,
    filename: item.filename,
    mimeType: item.mimeType,
    src: `/demo/api/media/${encodeURIComponent(item.id)}`,
  };
}

function jobView(job: DemoJobStatus): Static<typeof JobView> {
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    createdAt: new Date(job.createdAt).toISOString(),
    completedAt: job.completedAt === null ? null : new Date(job.completedAt).toISOString(),
    error: job.error ? { code: job.error.code, message: job.error.message } : null,
  };
}

function problem(error: StewardError): { code: string; message: string } {
  return { code: error.code, message: error.message };
}
