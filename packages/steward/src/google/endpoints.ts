/**
 * Every Google URL Steward calls, in one injectable object, so the emulator (or any OpenID
 * provider) is a drop-in: nothing else in Steward spells a Google host.
 */
export interface GoogleEndpoints {
  readonly tokenUrl: string;
  readonly revokeUrl: string;
  readonly jwksUrl: string;
  readonly userinfoUrl: string;
  /** Base of Google's RISC management API (`/v1beta/stream...`). */
  readonly riscApiUrl: string;
  /**
   * Cross-Account Protection (RISC) discovery document: the `issuer` and `jwks_uri` that security
   * event tokens are verified against (read from it, never assumed).
   */
  readonly riscConfigurationUrl: string;
  /** Accepted `iss` values of ID tokens. */
  readonly issuers: readonly string[];
  /** Base of Google API hosts; `https://HOST.googleapis.com` in google mode. */
  apiBaseUrl(host: string): string;
  /**
   * Whether a user's access token may be sent to this URL: Google API hosts only (on an
   * emulator, its stand-ins for them, never its control API).
   */
  isApiUrl(url: URL): boolean;
}

/** Google's documented issuers: the modern form and the legacy one. */
export const GOOGLE_ISSUERS = Object.freeze(["https://accounts.google.com", "accounts.google.com"]);

export const GOOGLE_ENDPOINTS: GoogleEndpoints = Object.freeze({
  tokenUrl: "https://oauth2.googleapis.com/token",
  revokeUrl: "https://oauth2.googleapis.com/revoke",
  jwksUrl: "https://www.googleapis.com/oauth2/v3/certs",
  userinfoUrl: "https://openidconnect.googleapis.com/v1/userinfo",
  riscApiUrl: "https://risc.googleapis.com",
  riscConfigurationUrl: "https://accounts.google.com/.well-known/risc-configuration",
  issuers: GOOGLE_ISSUERS,
  apiBaseUrl: (host: string) => `https://${host}`,
  isApiUrl: (url: URL) =>
    url.protocol === "https:" && url.hostname.endsWith(".googleapis.com") && url.port === "",
});

/**
 * The paths of an emulator that stand for Google API hosts (`*.googleapis.com`): Drive, Photos
 * Library, OAuth's token, revoke, tokeninfo and userinfo, the keys and discovery. Not the
 * emulator's control API (`/emulator/...`: client secrets, other users' grants, faults), nor
 * what stands for accounts.google.com (the consent page) or Google's content hosts. Matched on
 * the path exactly as sent: its router decodes `%65mulator` to `emulator`, so an escape in the
 * leading segments is refused rather than decoded here; `new URL` has already resolved `..`.
 */
const EMULATED_API_PATH =
  /^\/(?:drive\/v3|upload\/drive\/v3|batch\/drive\/v3|v1\/(?:albums|mediaItems|uploads|userinfo)|oauth2\/v[134]|discovery\/v1|\$discovery|token|revoke|tokeninfo)(?:[/:]|$)/;

/**
 * The endpoints of an emulator at `baseUrl`: every Google endpoint and API host under it, and
 * Google's own issuers (the emulator signs with them, so the same rules apply). A user's token
 * goes only to the emulator's stand-ins for Google API hosts (see EMULATED_API_PATH).
 */
export function emulatorEndpoints(baseUrl: string): GoogleEndpoints {
  const base = baseUrl.replace(/\/+$/, "");
  return Object.freeze({
    tokenUrl: `${base}/token`,
    revokeUrl: `${base}/revoke`,
    jwksUrl: `${base}/oauth2/v3/certs`,
    userinfoUrl: `${base}/v1/userinfo`,
    riscApiUrl: base,
    riscConfigurationUrl: `${base}/.well-known/risc-configuration`,
    issuers: GOOGLE_ISSUERS,
    apiBaseUrl: () => base,
    isApiUrl: (url: URL) =>
      url.origin === new URL(base).origin && EMULATED_API_PATH.test(url.pathname),
  });
}

/**
 * `https://HOST.googleapis.com/path` at the configured base for HOST: itself against Google,
 * the emulator in emulator mode, so code written for Google runs unchanged on the emulator.
 * Anything else is returned as given, for `isApiUrl` to allow or refuse.
 */
export function atApiBase(endpoints: GoogleEndpoints, input: string | URL): string | URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return input;
  }
  if (!GOOGLE_ENDPOINTS.isApiUrl(url)) return input;
  return `${endpoints.apiBaseUrl(url.hostname)}${url.pathname}${url.search}`;
}
