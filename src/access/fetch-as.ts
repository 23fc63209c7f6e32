import { setTimeout as sleep } from "node:timers/promises";
import { StewardError } from "../errors.js";
import type { AccessTokenOptions, TokenManager } from "../tokens/token-manager.js";

export interface FetchAsOptions {
  /** Attempts in all for idempotent requests hit by 429, 5xx or a rate-limit 403. Default 5. */
  maxAttempts?: number;
  /** Truncated exponential backoff: 2^n × this plus up to 1 s of jitter. Default 1000 ms. */
  baseDelayMs?: number;
  /** No single wait is longer, Retry-After included. Default 32 000 ms, as Google suggests. */
  maxBackoffMs?: number;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
const RATE_LIMIT_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);
const MAX_REDIRECTS = 5;

/**
 * Calls a Google API as `sub`: the bearer is added; a 401 refreshes the token once and retries;
 * idempotent requests hit by 429, 5xx or a rate-limit 403 are retried with truncated exponential
 * backoff, honouring `Retry-After`. The token only ever goes to Google API hosts (`isApiUrl`):
 * another URL, or a redirect off them, is refused.
 *
 * @throws StewardError `url_not_allowed`, and those of {@link TokenManager.accessToken}.
 */
export async function fetchAs(
  tokens: Pick<TokenManager, "accessToken">,
  isApiUrl: (url: URL) => boolean,
  sub: string,
  input: string | URL,
  init: RequestInit = {},
  options: FetchAsOptions & Pick<AccessTokenOptions, "scopes"> = {},
): Promise<Response> {
  let url = allowed(isApiUrl, input);
  const method = (init.method ?? "GET").toUpperCase();
  const retryable = IDEMPOTENT.has(method) && replayable(init.body);
  const maxAttempts = options.maxAttempts ?? 5;
  let rejectedToken: string | undefined;
  for (let attempt = 1, redirects = 0; ; attempt++) {
    const { token } = await tokens.accessToken(sub, { scopes: options.scopes, rejectedToken });
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      if (++redirects > MAX_REDIRECTS)
        throw new StewardError("url_not_allowed", { message: "Too many redirects." });
      url = allowed(isApiUrl, new URL(response.headers.get("location") as string, url));
      attempt--;
      continue;
    }
    if (response.status === 401 && rejectedToken === undefined && replayable(init.body)) {
      // Google refused a token we thought valid (revoked, or rotated elsewhere): refresh once.
      rejectedToken = token;
      await response.body?.cancel();
      continue;
    }
    if (!retryable || attempt >= maxAttempts || !(await isTransient(response))) return response;
    await response.body?.cancel();
    await sleep(backoffMs(response, attempt, options));
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
