/**
 * A 200 from Google's token endpoint, in Steward's names. Secrets: never log one.
 * The ID token is carried as Google sent it, unverified: `verifyIdToken` (src/identity) is the
 * one place that judges it.
 */
export interface TokenResponse {
  accessToken: string;
  /** Only on a first consent (or `prompt=consent`); a refresh returns none. */
  refreshToken: string | undefined;
  /** Present when OpenID scopes were granted; a refresh may or may not carry one. */
  idToken: string | undefined;
  /** Remaining lifetime of the access token, when Google says. */
  expiresInSeconds: number | undefined;
  /** The scopes actually granted (`scope`, space-delimited). */
  scopes: string[];
}

/** An error answer of the token or revocation endpoint: `{"error": ..., "error_description": ...}`. */
export interface OAuthErrorBody {
  error: string;
  description: string | undefined;
}

/**
 * Parses the JSON text of a 200 from the token endpoint (authorization_code or refresh_token
 * grant). Rejects what no client can use: no `access_token`, a `token_type` other than Bearer, a
 * mistyped `refresh_token`, `expires_in` or `scope`. An `id_token` that is not a string is taken
 * as none (sign-in then refuses the response; a refresh needs none).
 *
 * @returns the response, or the problem, naming the field and never its value.
 */
export function parseTokenResponse(text: string): TokenResponse | { problem: string } {
  const body = jsonObject(text);
  if (body === undefined) return { problem: "the body is not a JSON object" };
  const {
    access_token: accessToken,
    token_type: tokenType,
    refresh_token: refreshToken,
    expires_in: expiresIn,
    scope,
    id_token: idToken,
  } = body;
  if (typeof accessToken !== "string" || accessToken === "") {
    return { problem: "access_token is missing" };
  }
  if (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer") {
    return { problem: "token_type is not Bearer" };
  }
  if (refreshToken !== undefined && typeof refreshToken !== "string") {
    return { problem: "refresh_token is not a string" };
  }
  // Some servers send the number as a string; RFC 6749 asks for a number.
  const seconds = typeof expiresIn === "string" ? Number.parseFloat(expiresIn) : expiresIn;
  if (seconds !== undefined && (typeof seconds !== "number" || !(seconds >= 0))) {
    return { problem: "expires_in is not a number of seconds" };
  }
  if (scope !== undefined && typeof scope !== "string") return { problem: "scope is not a string" };
  return {
    accessToken,
    refreshToken,
    idToken: typeof idToken === "string" ? idToken : undefined,
    expiresInSeconds: seconds,
    scopes: scope === undefined ? [] : scope.split(" ").filter(Boolean),
  };
}

/** The OAuth error of a refusal's body, or undefined when it is not one (an HTML 503, say). */
export function parseOAuthError(text: string): OAuthErrorBody | undefined {
  const body = jsonObject(text);
  if (body === undefined || typeof body.error !== "string" || body.error === "") return undefined;
  const description = body.error_description;
  return {
    error: body.error,
    description: typeof description === "string" ? description : undefined,
  };
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
