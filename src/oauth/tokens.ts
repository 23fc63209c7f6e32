import type * as oidc from "openid-client";
import { idTokenOf } from "./client.js";

/** What Google's token endpoint answered, in our names. Secrets: handle with care, never log. */
export interface GoogleTokens {
  accessToken: string;
  /** Only on a first consent (or `prompt=consent`); a refresh never returns one. */
  refreshToken: string | undefined;
  idToken: string | undefined;
  expiresAt: Date;
  /** The scopes actually granted, from the response's `scope`. */
  scopes: string[];
}

export function tokensOf(response: oidc.TokenEndpointResponse, now: number): GoogleTokens {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    idToken: idTokenOf(response),
    expiresAt: new Date(now + (response.expires_in ?? 3600) * 1000),
    scopes: typeof response.scope === "string" ? response.scope.split(" ").filter(Boolean) : [],
  };
}
