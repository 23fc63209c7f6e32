import { OPENID_SCOPES, SCOPE_ALIASES } from "./model.js";

/** Splits a space-delimited scope string, expands `email`/`profile` and drops duplicates. */
export function normalizeScopes(scopes: string | readonly string[]): string[] {
  const list = typeof scopes === "string" ? scopes.split(" ") : scopes;
  const out = new Set<string>();
  for (const scope of list) {
    if (scope !== "") out.add(SCOPE_ALIASES[scope] ?? scope);
  }
  return [...out];
}

export function hasOpenIdScope(scopes: readonly string[]): boolean {
  return scopes.some((scope) => OPENID_SCOPES.includes(scope));
}
