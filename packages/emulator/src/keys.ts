import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import {
  createLocalJWKSet,
  exportJWK,
  type JWK,
  type JWTPayload,
  type JWTVerifyResult,
  jwtVerify,
} from "jose";
import forge from "node-forge";

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: JWK;
  /** The X.509 certificate Google publishes at /oauth2/v1/certs, as PEM. */
  readonly certificatePem: string;
}

/** Google signs certificates for its ID-token keys under this name. */
const CERTIFICATE_NAME = "federated-signon.system.gserviceaccount.com";
const CERTIFICATE_LIFETIME_MS = 14 * 24 * 3600 * 1000;

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  // Google's kids are 40 hex digits.
  const kid = randomBytes(20).toString("hex");
  const jwk = { ...(await exportJWK(publicKey)), alg: "RS256", use: "sig", kid };
  return { kid, privateKey, jwk, certificatePem: selfSignedCertificate(privateKey, publicKey) };
}

function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject): string {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ type: "spki", format: "pem" }).toString(),
  );
  certificate.serialNumber = randomBytes(8)
    .toString("hex")
    .replace(/^[89a-f]/, "1");
  certificate.validity.notBefore = new Date();
  certificate.validity.notAfter = new Date(Date.now() + CERTIFICATE_LIFETIME_MS);
  const name = [{ name: "commonName", value: CERTIFICATE_NAME }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.sign(
    forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()),
    forge.md.sha256.create(),
  );
  return forge.pki.certificateToPem(certificate);
}

/** One signing key as the state file keeps it: the private key as PKCS#8 PEM. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

/**
 * What {@link SigningKeys.export} writes and {@link SigningKeys.restore} reads: every key the set
 * holds, in the order they are published: the signing key, the next, the previous.
 */
export interface SigningKeysSnapshot {
  readonly keys: readonly StoredSigningKey[];
}

async function restoreSigningKey(stored: StoredSigningKey): Promise<SigningKey> {
  const privateKey = createPrivateKey(stored.privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const jwk = { ...(await exportJWK(publicKey)), alg: "RS256", use: "sig", kid: stored.kid };
  return { kid: stored.kid, privateKey, jwk, certificatePem: stored.certificatePem };
}

/**
 * The emulator's RS256 signing keys, published as Google publishes its own: the key that signs
 * (`current`), the key that will sign after the next rotation (`next`, listed well before it
 * signs, so a client caching the certificates for hours already holds it), and the key that
 * signed before the last rotation (`previous`, kept listed so tokens it signed still verify).
 * A rotation promotes `next` to `current`, keeps the old `current` as `previous`, drops the old
 * `previous` and makes a new `next`.
 */
export class SigningKeys {
  private constructor(
    private current: SigningKey,
    private next: SigningKey,
    private previous: SigningKey | undefined,
  ) {}

  static async create(): Promise<SigningKeys> {
    return new SigningKeys(await createSigningKey(), await createSigningKey(), undefined);
  }

  /**
   * The keys as a persisted emulator keeps them (they include the private keys), in the order
   * they are published: the signing key, the next, then the previous one if any.
   */
  export(): SigningKeysSnapshot {
    return {
      keys: this.published.map((key) => ({
        kid: key.kid,
        privateKeyPem: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        certificatePem: key.certificatePem,
      })),
    };
  }

  /**
   * The keys {@link export} wrote, so tokens signed before a restart verify after it, and the
   * key clients already hold as the next one still signs after the next rotation.
   *
   * @throws TypeError when the snapshot holds no key or a key that does not parse.
   */
  static async restore(snapshot: SigningKeysSnapshot): Promise<SigningKeys> {
    if (!Array.isArray(snapshot.keys) || snapshot.keys.length === 0) {
      throw new TypeError("the signing keys are missing");
    }
    const [current, next, previous] = await Promise.all(snapshot.keys.map(restoreSigningKey));
    return new SigningKeys(current as SigningKey, next ?? (await createSigningKey()), previous);
  }

  get currentKid(): string {
    return this.current.kid;
  }

  async rotate(): Promise<{ kid: string; previousKid: string; nextKid: string }> {
    const upcoming = await createSigningKey();
    this.previous = this.current;
    this.current = this.next;
    this.next = upcoming;
    return { kid: this.current.kid, previousKid: this.previous.kid, nextKid: this.next.kid };
  }

  /** Every key listed: the signing one first, then the next, then the previous. */
  private get published(): SigningKey[] {
    return [this.current, this.next, ...(this.previous ? [this.previous] : [])];
  }

  /** The body of /oauth2/v3/certs. */
  jwks(): { keys: JWK[] } {
    return { keys: this.published.map((key) => key.jwk) };
  }

  /** The body of /oauth2/v1/certs: kid -> PEM certificate. */
  pemCertificates(): Record<string, string> {
    return Object.fromEntries(this.published.map((key) => [key.kid, key.certificatePem]));
  }

  /** Verifies a token signed by a published key (for /tokeninfo); undefined when invalid. */
  async verify(token: string): Promise<JWTVerifyResult | undefined> {
    try {
      return await jwtVerify(token, createLocalJWKSet(this.jwks()), { algorithms: ["RS256"] });
    } catch {
      return undefined;
    }
  }

  /**
   * Signs claims as a compact RS256 JWS. node:crypto's `sign` directly: about a third faster
   * per CPU-second than jose's WebCrypto path here (bench/emulator.bench.ts), and signing bounds
   * the code-exchange rate. jose verifies what this signs, in the tests and in Steward.
   * `typ` is `JWT` for ID tokens, `secevent+jwt` for RISC security event tokens.
   */
  sign(claims: JWTPayload, typ = "JWT"): string {
    const key = this.current;
    const header = base64url({ alg: "RS256", kid: key.kid, typ });
    const signingInput = `${header}.${base64url(claims)}`;
    return `${signingInput}.${cryptoSign("sha256", Buffer.from(signingInput), key.privateKey).toString("base64url")}`;
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** OpenID Connect `at_hash`: base64url of the left half of SHA-256(access token). */
export function accessTokenHash(accessToken: string): string {
  return createHash("sha256").update(accessToken).digest().subarray(0, 16).toString("base64url");
}
