import { createHash } from "node:crypto";
import type { AuthorizationCode } from "./model.js";

/** PKCE (RFC 7636): does the verifier match the challenge the code was minted with? */
export function pkceMatches(code: AuthorizationCode, verifier: string | undefined): boolean {
  if (code.codeChallenge === undefined) return true;
  if (verifier === undefined) return false;
  const computed =
    code.codeChallengeMethod === "S256"
      ? createHash("sha256").update(verifier).digest("base64url")
      : verifier;
  return computed === code.codeChallenge;
}
