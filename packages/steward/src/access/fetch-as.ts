import { setTimeout as sleep } from "node:timers/promises";
import { isGrantGone, StewardError } from "../errors.js";
import type { AccessToken, AccessTokenOptions, TokenManager } from "../tokens/token-manager.js";

export interface FetchAsOptions {
  /** Attempts in all for idempotent requests hit by 429, 5xx or a rate-limit 403. Default 5. */
  maxAttempts?: number;
  /** Truncated exponential backoff: 2^n × this plus up to 1 s of jitter. Default 1000 ms. */
  baseDelayMs?: number;
  /** No single wait is longer, Retry-After included. Default 32 000 ms, as Google suggests. */
  maxBackoffMs?: number;
}

type TokenSource = Pick<TokenManager, "accessToken">;

/** One request as sent, without its bearer; a redirect may change every part of it. */
interface Outgoing {
  readonly url: URL;
  readonly method: string;
  readonly headers: Headers;
  readonly body: RequestInit["body"];
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
const RATE_LIMIT_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);
const MAX_REDIRECTS = 5;
/** Dropped with the body when a redirect turns the request into a GET (Fetch's own list). */
const BODY_HEADERS = ["content-encoding", "content-language", "content-location", "content-type"];

/**
 * Calls a Google API as `sub`: the bearer is added; a 401 refreshes the token once and retries
 * (a body that cannot be sent again gets the 401 back, the token still refused); idempotent
 * requests hit by 429, 5xx or a rate-limit 403 are retried with truncated exponential backoff,
 * honouring `Retry-After`, until `init.signal` aborts. Redirects are followed as `fetch` does
 * (a 303, or a 301/302 after POST, becomes a GET without body; a 307/308 whose body was a
 * stream comes back as is). The token only ever goes to Google API hosts (`isApiUrl`): another
 * URL, or a redirect off them, is refused.
 *
 * @throws StewardError `url_not_allowed` (off the API hosts, or with userinfo), and those of
 *   {@link TokenManager.accessToken}; the signal's reason once `init.signal` aborts.
 */
export async function fetchAs(
  tokens: TokenSource,
  isApiUrl: (url: URL) => boolean,
  sub: string,
  input: string | URL,
  init: RequestInit = {},
  options: FetchAsOptions & Pick<AccessTokenOptions, "scopes"> = {},
): Promise<Response> {
  const signal = init.signal ?? undefined;
  let request: Outgoing = {
    url: allowed(isApiUrl, input),
    method: (init.method ?? "GET").toUpperCase(),
    headers: new Headers(init.headers),
    body: init.body,
  };
  const maxAttempts = options.maxAttempts ?? 5;
  let rejectedToken: string | undefined;
  for (let attempt = 1, redirects = 0; ; attempt++) {
    signal?.throwIfAborted();
    const { token } = await tokens.accessToken(sub, { scopes: options.scopes, rejectedToken });
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${token}`);
    const { url, method, body } = request;
    const response = await fetch(url, { ...init, method, body, headers, redirect: "manual" });
    if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      if (++redirects > MAX_REDIRECTS) {
        await response.body?.cancel();
        throw new StewardError("url_not_allowed", { message: "Too many redirects." });
      }
      const next = await redirected(response, request, isApiUrl);
      if (next === undefined) return response;
      request = next;
      attempt--;
      continue;
    }
    if (response.status === 401 && rejectedToken === undefined) {
      // Google refused a token we thought valid (revoked, or rotated elsewhere): refresh once.
      rejectedToken = token;
      if (!replayable(body)) {
        await refuseToken(tokens, sub, token).catch(async (error: unknown) => {
          await response.body?.cancel();
          throw error;
        });
        return response;
      }
      await response.body?.cancel();
      continue;
    }
    const retryable = IDEMPOTENT.has(method) && replayable(body);
    if (!retryable || attempt >= maxAttempts || !(await isTransient(response))) return response;
    await response.body?.cancel();
    await abortableSleep(backoffMs(response, attempt, options), signal);
  }
}

/**
 * Tells the token source Google refused `token` when the request cannot be sent again with a
 * fresh one, so the next call does not meet the same refusal.
 *
 * @returns the fresh token, or undefined when none could be had now (the next call will try).
 * @throws StewardError `credential_revoked`, `user_not_found`: the grant is gone.
 */
export async function refuseToken(
  tokens: TokenSource,
  sub: string,
  token: string,
): Promise<AccessToken | undefined> {
  try {
    return await tokens.accessToken(sub, { rejectedToken: token });
  } catch (error) {
    if (isGrantGone(error)) throw error;
    return undefined;
  }
}

/**
 * The request a redirect asks for, made as `fetch`'s own "follow" would make it (the redirect's
 * own body is then cancelled), or undefined when its body was a stream, already read: the caller
 * gets the redirect as is.
 *
 * @throws StewardError `url_not_allowed` for a location off the API hosts.
 */
async function redirected(
  response: Response,
  request: Outgoing,
  isApiUrl: (url: URL) => boolean,
): Promise<Outgoing | undefined> {
  const { status, headers } = response;
  const toGet =
    (status === 303 && request.method !== "GET" && request.method !== "HEAD") ||
    ((status === 301 || status === 302) && request.method === "POST");
  if (!toGet && !replayable(request.body)) return undefined;
  await response.body?.cancel();
  const url = allowed(isApiUrl, new URL(headers.get("location") as string, request.url));
  if (!toGet) return { ...request, url };
  const getHeaders = new Headers(request.headers);
  for (const name of BODY_HEADERS) getHeaders.delete(name);
  return { url, method: "GET", headers: getHeaders, body: undefined };
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
async function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}

function allowed(isApiUrl: (url: URL) => boolean, input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new StewardError("url_not_allowed", { message: "Not a URL." });
  }
  if (!isApiUrl(url)) {
    throw new StewardError("url_not_allowed", { detail: `refused ${url.protocol}//${url.host}` });
  }
  // `https://user:pw@host` would be refused by fetch itself, as a 500 and with the URL echoed.
  if (url.username !== "" || url.password !== "") {
    throw new StewardError("url_not_allowed", { message: "The URL may not hold credentials." });
  }
  return url;
}

/** Bodies that can be sent again; a stream can be read once only. */
function replayable(body: RequestInit["body"]): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === "string" ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    body instanceof URLSearchParams ||
    body instanceof Blob
  );
}

async function isTransient(response: Response): Promise<boolean> {
  if (response.status === 429 || response.status >= 500) return true;
  if (response.status !== 403) return false;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: { errors?: Array<{ reason?: string }> } } | undefined;
  return body?.error?.errors?.some((item) => RATE_LIMIT_REASONS.has(item.reason ?? "")) ?? false;
}

function backoffMs(response: Response, attempt: number, options: FetchAsOptions): number {
  const cap = options.maxBackoffMs ?? 32_000;
  const retryAfter = retryAfterMs(response.headers.get("retry-after"));
  if (retryAfter !== undefined) return Math.min(retryAfter, cap);
  return Math.min(2 ** (attempt - 1) * (options.baseDelayMs ?? 1000) + Math.random() * 1000, cap);
}

/** `Retry-After` in seconds or as an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
