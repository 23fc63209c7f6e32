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
  /** Whether a user's access token may be sent to this URL: Google API hosts only. */
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
 * The endpoints of an emulator at `baseUrl`: every Google endpoint and API host under it, and
 * Google's own issuers (the emulator signs with them, so the same rules apply).
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
    isApiUrl: (url: URL) => url.origin === new URL(base).origin,
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
