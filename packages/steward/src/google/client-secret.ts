/** A Google OAuth client as the `client_secret_*.json` from Google's console describes it. */
export interface GoogleClient {
  type: "web" | "installed";
  clientId: string;
  clientSecret: string;
  projectId: string | undefined;
  authUri: string | undefined;
  tokenUri: string | undefined;
  redirectUris: string[];
  javascriptOrigins: string[];
}

/**
 * Parses a `client_secret_*.json`: exactly one of `web` or `installed` at the top, with
 * `client_id` and `client_secret` strings and optional URL fields. Returns every problem found,
 * each naming the field (never a value: the file holds a secret).
 */
export function parseClientSecret(text: string): { client: GoogleClient } | { problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problems: ["is not valid JSON"] };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return { problems: ['must be a JSON object with a "web" or "installed" member'] };
  }
  const kinds = Object.keys(json).filter((key) => key === "web" || key === "installed");
  if (kinds.length !== 1) {
    return { problems: ['must have exactly one of "web" or "installed" at the top level'] };
  }
  const type = kinds[0] as "web" | "installed";
  const body = (json as Record<string, unknown>)[type];
  if (body === null || typeof body !== "object") return { problems: [`${type} must be an object`] };
  const fields = body as Record<string, unknown>;
  const problems: string[] = [];
  const text_ = (name: string, required: boolean): string | undefined => {
    const value = fields[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== "string" || value === "") {
      problems.push(
        `${type}.${name} ${value === undefined ? "is missing" : "must be a non-empty string"}`,
      );
      return undefined;
    }
    return value;
  };
  const list = (name: string): string[] => {
    const value = fields[name];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
      problems.push(`${type}.${name} must be an array of strings`);
      return [];
    }
    return value;
  };
  const client = {
    type,
    clientId: text_("client_id", true),
    clientSecret: text_("client_secret", true),
    projectId: text_("project_id", false),
    authUri: text_("auth_uri", false),
    tokenUri: text_("token_uri", false),
    redirectUris: list("redirect_uris"),
    javascriptOrigins: list("javascript_origins"),
  };
  if (problems.length > 0) return { problems };
  return { client: client as GoogleClient };
}
