/**
 * The parameters of an OAuth request: the form (or JSON) body merged over the query string.
 * Only string values count; a repeated parameter is an error, as RFC 6749 §3.1 says.
 */
export function oauthParams(
  query: unknown,
  body: unknown,
): { ok: true; params: Record<string, string> } | { ok: false; duplicated: string } {
  const params: Record<string, string> = {};
  for (const source of [query, body]) {
    if (source === null || typeof source !== "object" || Buffer.isBuffer(source)) continue;
    for (const [name, value] of Object.entries(source)) {
      if (Array.isArray(value)) return { ok: false, duplicated: name };
      if (typeof value === "string") params[name] = value;
    }
  }
  return { ok: true, params };
}
