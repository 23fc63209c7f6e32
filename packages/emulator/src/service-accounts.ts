import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomInt,
} from "node:crypto";
import { decodeProtectedHeader, jwtVerify } from "jose";

/** `aud` of the JWT a service account signs to call the RISC management API. */
export const RISC_MANAGEMENT_AUDIENCE =
  "https://risc.googleapis.com/google.identity.risc.v1beta.RiscManagementService";

/** Google lets such a self-signed JWT live one hour at most. */
const MAX_JWT_LIFETIME_SECONDS = 3600;

interface ServiceAccount {
  readonly email: string;
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** Holds `roles/riscconfigs.admin` in the emulated project. */
  readonly riscAdmin: boolean;
}

/** A service account as the state file keeps it: only its public key (the private one left). */
export interface StoredServiceAccount {
  readonly email: string;
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly riscAdmin: boolean;
}

/** Who called the management API, or why not: 401 bad credentials, 403 lacking the role. */
export type ManagementCaller =
  | { readonly ok: true; readonly email: string }
  | { readonly ok: false; readonly status: 401 | 403 };

export interface ServiceAccountInput {
  /** The account id, the part of `client_email` before `@`. */
  name?: string;
  /** Grant `roles/riscconfigs.admin`; true by default. */
  riscAdmin?: boolean;
}

/**
 * The emulated project's service accounts: it issues keys shaped like the JSON key files
 * Google's console gives, and checks the JWTs signed with them as the RISC API does.
 */
export class ServiceAccounts {
  private readonly byKeyId = new Map<string, ServiceAccount>();

  constructor(private readonly projectId: string) {}

  /** The accounts as a persisted emulator keeps them. */
  export(): StoredServiceAccount[] {
    return [...this.byKeyId.values()].map(({ email, keyId, publicKey, riscAdmin }) => ({
      email,
      keyId,
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      riscAdmin,
    }));
  }

  /**
   * Replaces the accounts with what {@link export} wrote.
   *
   * @throws TypeError when the list is not one or a key does not parse.
   */
  import(accounts: readonly StoredServiceAccount[]): void {
    if (!Array.isArray(accounts)) throw new TypeError("serviceAccounts is not a list");
    this.byKeyId.clear();
    for (const { email, keyId, publicKeyPem, riscAdmin } of accounts) {
      this.byKeyId.set(keyId, {
        email,
        keyId,
        publicKey: createPublicKey(publicKeyPem),
        riscAdmin,
      });
    }
  }

  /** A new account and key; the private key leaves the emulator here and is not kept. */
  issue(baseUrl: string, input: ServiceAccountInput = {}) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const name = input.name ?? `risc-${randomBytes(4).toString("hex")}`;
    const email = `${name}@${this.projectId}.iam.gserviceaccount.com`;
    const keyId = randomBytes(20).toString("hex");
    this.byKeyId.set(keyId, { email, keyId, publicKey, riscAdmin: input.riscAdmin ?? true });
    return {
      type: "service_account",
      project_id: this.projectId,
      private_key_id: keyId,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: email,
      client_id: `1${String(randomInt(10 ** 9, 10 ** 10 - 1))}${String(randomInt(10 ** 9, 10 ** 10 - 1))}`,
      auth_uri: `${baseUrl}/o/oauth2/auth`,
      token_uri: `${baseUrl}/token`,
      auth_provider_x509_cert_url: `${baseUrl}/oauth2/v1/certs`,
      client_x509_cert_url: `${baseUrl}/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
      universe_domain: "googleapis.com",
    };
  }

  /**
   * Checks `Authorization: Bearer <jwt>` as the RISC API does: RS256 by a key this emulator
   * issued (`kid` = `private_key_id`), `iss` = `sub` = the account's email, the management
   * `aud`, unexpired, and living at most an hour.
   */
  async verifyManagementJwt(
    authorization: string | undefined,
    nowMs: number,
  ): Promise<ManagementCaller> {
    const token = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? "")?.[1];
    if (token === undefined) return { ok: false, status: 401 };
    let account: ServiceAccount | undefined;
    try {
      const kid = decodeProtectedHeader(token).kid;
      account = kid === undefined ? undefined : this.byKeyId.get(kid);
      if (account === undefined) return { ok: false, status: 401 };
      const { payload } = await jwtVerify(token, account.publicKey, {
        algorithms: ["RS256"],
        issuer: account.email,
        subject: account.email,
        audience: RISC_MANAGEMENT_AUDIENCE,
        requiredClaims: ["iat", "exp"],
        currentDate: new Date(nowMs),
      });
      if ((payload.exp as number) - (payload.iat as number) > MAX_JWT_LIFETIME_SECONDS) {
        return { ok: false, status: 401 };
      }
    } catch {
      return { ok: false, status: 401 };
    }
    return account.riscAdmin ? { ok: true, email: account.email } : { ok: false, status: 403 };
  }
}
