import { importPKCS8, SignJWT } from "jose";

/** The fields Steward uses of a service account's JSON key, as Google's console gives it. */
export interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKeyId: string;
  /** PKCS#8 PEM. A secret: never logged, never echoed. */
  readonly privateKey: string;
}

/** `aud` of the JWT that authenticates calls to the RISC management API. */
export const RISC_MANAGEMENT_AUDIENCE =
  "https://risc.googleapis.com/google.identity.risc.v1beta.RiscManagementService";

/**
 * Parses a service account's JSON key file: `type` `service_account`, with `client_email`,
 * `private_key_id` and `private_key` strings. Returns every problem found, each naming the field
 * (never a value: the file holds a private key).
 */
export function parseServiceAccountKey(
  text: string,
): { key: ServiceAccountKey } | { problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problems: ["is not valid JSON"] };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return { problems: ["must be a JSON object"] };
  }
  const fields = json as Record<string, unknown>;
  const problems: string[] = [];
  if (fields.type !== "service_account") problems.push('type must be "service_account"');
  const text_ = (name: string): string => {
    const value = fields[name];
    if (typeof value === "string" && value !== "") return value;
    problems.push(`${name} must be a non-empty string`);
    return "";
  };
  const clientEmail = text_("client_email");
  const privateKeyId = text_("private_key_id");
  const privateKey = text_("private_key");
  if (privateKey !== "" && !privateKey.includes("-----BEGIN PRIVATE KEY-----")) {
    problems.push("private_key must be a PEM PKCS#8 private key");
  }
  return problems.length > 0 ? { problems } : { key: { clientEmail, privateKeyId, privateKey } };
}

/**
 * The bearer token for Google's RISC management API: a JWT the service account signs itself
 * (RS256, `kid` = `private_key_id`, `iss` = `sub` = its email), valid one hour.
 *
 * @throws TypeError when the private key is not an RSA PKCS#8 key (parse the file first).
 */
export async function riscManagementJwt(
  key: ServiceAccountKey,
  nowMs = Date.now(),
): Promise<string> {
  const privateKey = await importPKCS8(key.privateKey, "RS256");
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: key.privateKeyId, typ: "JWT" })
    .setIssuer(key.clientEmail)
    .setSubject(key.clientEmail)
    .setAudience(RISC_MANAGEMENT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(privateKey);
}
