import { googleToken } from "./google-token.js";
import type { Grants } from "./grants.js";
import { type AuthorizationCode, type EmulatorSettings, OPENID_SCOPES } from "./model.js";
import { normalizeScopes } from "./scope-list.js";
import type { MintCodeInput } from "./state-inputs.js";

/** Google's shapes: codes `4/0…`, access tokens `ya29.…`, refresh tokens `1//0…`. */
export const CODE_SHAPE = /^4\/0[A-Za-z0-9_-]{40,}$/;

/**
 * One-time authorization codes (`4/0…`), minted by a sign-in or the consent page and redeemed
 * once at the token endpoint. Synchronous, so a code is redeemed at most once even when two
 * requests race.
 */
export class AuthorizationCodes {
  private readonly codes = new Map<string, AuthorizationCode>();

  constructor(
    private readonly now: () => number,
    private readonly settings: EmulatorSettings,
    /** Whether the user sees the consent screen, which decides if a refresh token follows. */
    private readonly grants: Pick<Grants, "needsConsent">,
  ) {}

  /**
   * Mints a one-time code. A refresh token will follow only when the user sees the consent
   * screen with offline access: the first consent of this (user, client), a grant revoked since,
   * new scopes, or `prompt=consent`. A repeat sign-in gets none, as with Google.
   */
  mint(input: MintCodeInput): { code: string; scopes: string[] } {
    const requested = normalizeScopes(input.requestedScopes);
    const ticked = new Set(normalizeScopes(input.grantedScopes ?? requested));
    const scopes = requested.filter((scope) => ticked.has(scope) || OPENID_SCOPES.includes(scope));
    const consentShown =
      (input.prompt ?? "").split(" ").includes("consent") ||
      this.grants.needsConsent(input.sub, input.clientId, scopes);
    const code = googleToken("4/0", 54);
    this.codes.set(code, {
      clientId: input.clientId,
      authorizedParty: input.authorizedParty ?? input.clientId,
      sub: input.sub,
      scopes,
      redirectUris: input.redirectUris,
      issueRefreshToken: input.offline && consentShown,
      expiresAtMs: this.now() + this.settings.codeTtlSeconds * 1000,
      nonce: input.nonce,
      codeChallenge: input.codeChallenge,
      codeChallengeMethod: input.codeChallenge ? (input.codeChallengeMethod ?? "plain") : undefined,
    });
    return { code, scopes };
  }

  /** Takes a code out (it works once, whatever follows); undefined when unknown or expired. */
  redeem(code: string): AuthorizationCode | undefined {
    const record = this.codes.get(code);
    this.codes.delete(code);
    if (record === undefined || record.expiresAtMs <= this.now()) return undefined;
    return record;
  }

  /** The unexpired codes, as a persisted emulator saves them. */
  export(nowMs: number): Array<[string, AuthorizationCode]> {
    return [...this.codes].filter(([, code]) => code.expiresAtMs > nowMs);
  }

  import(entries: ReadonlyArray<[string, AuthorizationCode]>): void {
    this.codes.clear();
    for (const [code, record] of entries) this.codes.set(code, record);
  }
}
