import { parseOAuthError, parseTokenResponse } from "../google/token-response.js";
import { UnusableTokenAnswer } from "./errors.js";

/** What Google's token endpoint answered, in our names. Secrets: handle with care, never log. */
export interface GoogleTokens {
  accessToken: string;
  /** Only on a first consent (or `prompt=consent`); a refresh never returns one. */
  refreshToken: string | undefined;
  /** As Google sent it, not yet verified: `verifyIdToken` is the one that judges it. */
  idToken: string | undefined;
  expiresAt: Date;
  /** The scopes actually granted, from the response's `scope`. */
  scopes: string[];
}

/**
 * Reads the token endpoint's answer to a grant request (oauth4webapi's `Response`).
 *
 * oauth4webapi's own reading (`processGenericTokenEndpointResponse` and its kin) validates the
 * response's ID token by OpenID Connect's rules for a flow it ran: `iss` equal to one issuer,
 * `aud` holding the client, 30 s of clock tolerance. Google's rules are wider (it also signs as
 * `accounts.google.com`) and Steward's stricter elsewhere (the signature, `azp`, `at_hash`), and
 * an ID token also reaches Steward without a flow (a bearer token, a token exchange). So the
 * response is read here, Google's JSON parsed in src/google, and `verifyIdToken` is the one place
 * an ID token is judged; the library does the request: the endpoint, the client authentication,
 * the form, the timeout and the refusal of plain HTTP outside loopback.
 *
 * @throws UnusableTokenAnswer on a refusal or a body no client could use (see `oauthFailure`).
 */
export async function tokensOf(response: Response, now: number): Promise<GoogleTokens> {
  const text = await response.text();
  if (response.status !== 200) {
    const refusal = parseOAuthError(text);
    throw new UnusableTokenAnswer(
      response.status,
      refusal?.error,
      refusal?.error ?? "no OAuth error",
    );
  }
  const parsed = parseTokenResponse(text);
  if ("problem" in parsed) throw new UnusableTokenAnswer(200, undefined, parsed.problem);
  return {
    accessToken: parsed.accessToken,
    refreshToken: parsed.refreshToken,
    idToken: parsed.idToken,
    expiresAt: new Date(now + (parsed.expiresInSeconds ?? 3600) * 1000),
    scopes: parsed.scopes,
  };
}
