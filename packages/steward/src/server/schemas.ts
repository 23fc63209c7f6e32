import { type Static, Type } from "@sinclair/typebox";
import { SUB_MAX_LENGTH } from "../store/index.js";

/** The one error envelope of the HTTP API. */
export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    code: Type.String({ description: "Stable snake_case code; see docs/errors.md." }),
    message: Type.String(),
  }),
});

/**
 * A user's `sub` wherever a request carries one (path, query, cursor): what the store can hold,
 * so a NUL or an over-long value is a 400 `invalid_request`, never a database error.
 */
export const Sub = (options: { description?: string } = {}) =>
  Type.String({
    minLength: 1,
    maxLength: SUB_MAX_LENGTH,
    pattern: "^[^\\u0000]+$",
    ...options,
  });

/** Path parameters `{ sub }`. */
export const SubParams = Type.Object({ sub: Sub() });

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Boolean>>(
  schema: T,
) => Type.Union([schema, Type.Null()]);

/** A user as the API shows it: the profile keyed by `sub`. */
export const PublicUser = Type.Object({
  sub: Type.String(),
  email: Nullable(Type.String()),
  emailVerified: Nullable(Type.Boolean()),
  name: Nullable(Type.String()),
  picture: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  givenName: Nullable(Type.String()),
  familyName: Nullable(Type.String()),
});
export type PublicUser = Static<typeof PublicUser>;

/** The error statuses a route may answer, each with the envelope. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorEnvelope> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorEnvelope]));
}

export function publicUser(user: {
  sub: string;
  email: string | null;
  emailVerified: boolean | null;
  name: string | null;
  picture: string | null;
  locale: string | null;
  givenName: string | null;
  familyName: string | null;
}): PublicUser {
  return {
    sub: user.sub,
    email: user.email,
    emailVerified: user.emailVerified,
    name: user.name,
    picture: user.picture,
    locale: user.locale,
    givenName: user.givenName,
    familyName: user.familyName,
  };
}

/** A page size in a query string: text (nothing is coerced), a number from 1 to 1000. */
export function PageLimit(byDefault: number) {
  return Type.Optional(
    Type.String({
      pattern: "^(1000|[1-9][0-9]{0,2})$",
      description: `1 to 1000, ${byDefault} by default.`,
    }),
  );
}

/** The page size of a recent-first listing when its query names none. */
const RECENT_PAGE_DEFAULT = 50;

/**
 * The query of a recent-first listing (`GET /v1/audit-events`, `GET /v1/jobs`): an optional
 * user and a page size. Read it with {@link recentPage}.
 */
export const RecentQuery = Type.Object({
  sub: Type.Optional(Sub()),
  limit: PageLimit(RECENT_PAGE_DEFAULT),
});

/** A {@link RecentQuery} as the store's and the jobs' `list` take it: the size a number. */
export function recentPage(query: Static<typeof RecentQuery>): { sub?: string; limit: number } {
  return { sub: query.sub, limit: Number(query.limit ?? RECENT_PAGE_DEFAULT) };
}

/** The OpenAPI security of the internal API's routes: an API key (or the admin token). */
export const API_KEY_BEARER = [{ apiKey: [] }];
