import { randomBytes } from "node:crypto";

/** A random secret in one of Google's shapes: `prefix` then `bytes` random bytes, base64url. */
export function googleToken(prefix: string, bytes: number): string {
  return prefix + randomBytes(bytes).toString("base64url");
}
