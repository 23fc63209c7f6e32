import { Type } from "@sinclair/typebox";
import { PublicUser } from "steward";

/** A feature of the demo and whether the user's grant turns it on. */
export const FeatureView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  scope: Type.String(),
  granted: Type.Boolean(),
});

export const ItemView = Type.Object({
  id: Type.String(),
  filename: Type.String(),
  mimeType: Type.String(),
  /** Same-origin URL of the bytes, through the demo API (the page's CSP allows no other). */
  src: Type.String(),
});

export const AlbumView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  items: Type.Array(ItemView),
});

export const JobView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  state: Type.String(),
  createdAt: Type.String(),
  completedAt: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
});

export const Problem = Type.Union([
  Type.Object({ code: Type.String(), message: Type.String() }),
  Type.Null(),
]);

/** What the page shows: the user, the connection, features, albums and jobs. */
export const DemoState = Type.Object({
  user: PublicUser,
  connection: Type.Object({
    status: Type.String({ description: "active, revoked, expired or none" }),
    grantedScopes: Type.Array(Type.String()),
    offlineAccess: Type.Boolean(),
  }),
  features: Type.Array(FeatureView),
  albums: Type.Array(AlbumView),
  /** Why the albums could not be read, if they could not. */
  photosError: Problem,
  jobs: Type.Array(JobView),
  /** Whether this service runs background jobs (the "Enhance" button needs them). */
  jobsEnabled: Type.Boolean(),
});

export const SessionResponse = Type.Object({
  user: PublicUser,
  grantedScopes: Type.Array(Type.String()),
  missingScopes: Type.Array(Type.String()),
  offlineAccess: Type.Boolean(),
  features: Type.Array(FeatureView),
});

export const DemoConfig = Type.Object({
  clientId: Type.String(),
  authorizationUrl: Type.String(),
  scopes: Type.Array(Type.String()),
  /** Origins the OAuth client accepts popups from; the page must be opened at one. */
  origins: Type.Array(Type.String()),
  features: Type.Array(
    Type.Object({ id: Type.String(), title: Type.String(), scope: Type.String() }),
  ),
});

/** A media item's id, wherever a request carries one. */
export const MediaItemId = Type.String({ pattern: "^[A-Za-z0-9_-]{1,200}$" });
