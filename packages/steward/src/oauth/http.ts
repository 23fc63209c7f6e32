import type { customFetch, HttpRequestOptions } from "oauth4webapi";
import { Agent, request } from "undici";

type OAuthFetch = NonNullable<HttpRequestOptions<"POST", URLSearchParams>[typeof customFetch]>;

/**
 * oauth4webapi's HTTP for Google's token and revocation endpoints, over undici's `request`
 * instead of the global `fetch`. Same library underneath, without the WHATWG streams a `fetch`
 * builds for each request and response: a refresh grant costs this process about a third less
 * CPU, which is most of what a storm of expired users costs (bench/tokens.bench.ts, part c).
 * Nothing else changes: no redirect is followed (oauth4webapi asks for `manual`), the timeout
 * arrives as the request's abort signal, and a transport failure rejects as fetch's would.
 */
export function undiciFetch(dispatcher: Agent = new Agent()): OAuthFetch {
  return async (url, options) => {
    const answer = await request(url, {
      method: options.method,
      headers: options.headers,
      body: requestBody(options.body),
      signal: options.signal,
      dispatcher,
    });
    const body = await answer.body.text();
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of [value ?? []].flat()) headers.append(name, one);
    }
    // A Response may not carry a body with these statuses.
    const empty = answer.statusCode === 204 || answer.statusCode === 304;
    return new Response(empty ? null : body, { status: answer.statusCode, headers });
  };
}

/** Token and revocation requests are forms; anything else is a mistake of ours. */
function requestBody(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof URLSearchParams) return body.toString();
  throw new TypeError("the OAuth HTTP client sends forms only");
}
