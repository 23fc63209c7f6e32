/** Google grants `email` and `profile` under their long names; compare scopes in that form. */
const LONG_NAMES: Readonly<Record<string, string>> = {
  email: "https://www.googleapis.com/auth/userinfo.email",
  profile: "https://www.googleapis.com/auth/userinfo.profile",
};

export function canonicalScope(scope: string): string {
  return LONG_NAMES[scope] ?? scope;
}

/** The scopes of `required` that `granted` lacks, as `required` spells them. */
export function missingScopes(required: readonly string[], granted: readonly string[]): string[] {
  const have = new Set(granted.map(canonicalScope));
  return required.filter((scope) => !have.has(canonicalScope(scope)));
}
