import { isStewardError } from "../errors.js";
import type { EventBus } from "../events/bus.js";
import type { OAuthClient } from "../oauth/client.js";
import { tokenRevocation } from "../oauth/grants.js";
import type { AuditEventInput, CredentialsRead, VaultStore } from "../store/index.js";
import type { TokenManager } from "../tokens/token-manager.js";

export interface RevokeDependencies {
  store: VaultStore;
  oauth: OAuthClient;
  tokens: TokenManager;
  events: EventBus;
}

/**
 * Ends a user's grant under the user's lock, the one sign-ins and refreshes take: revoke at
 * Google the grant stored at that moment (if Google cannot be reached the tokens are kept, so
 * the revocation can be retried), then mark the credential revoked with its audit event and
 * announcement in one transaction, forget the cached token, and announce it. A sign-in racing
 * the revocation lands wholly before it (its new grant is revoked with the rest) or after it.
 *
 * @returns whether Google still knew the grant (false: it was already revoked there, or no
 *   refresh token could be read to revoke, e.g. a credential no key of the ring opens).
 * @throws StewardError `upstream_unavailable`, `client_rejected`, `upstream_rejected`;
 *   `credential_busy`.
 */
export async function revokeGrant(
  deps: RevokeDependencies,
  sub: string,
  context: { reason: string; actor: string },
): Promise<{ revokedAtGoogle: boolean }> {
  const announcement = { sub, reason: context.reason };
  const audit = (revokedAtGoogle: boolean): Omit<AuditEventInput, "sub"> => ({
    type: "credential.revoked",
    actor: context.actor,
    data: { reason: context.reason, revokedAtGoogle },
  });
  const events = [{ event: "credential.revoked" as const, payload: announcement }];
  const outcome = await deps.store.withLockedUsers(
    [sub],
    async (held) => {
      const refreshToken = storedRefreshToken(await held.read(), sub);
      const revokedAtGoogle = refreshToken
        ? await tokenRevocation(deps.oauth, refreshToken)
        : false;
      // Not changed when there was no active credential: nothing to announce.
      const changed = await held.write([
        {
          sub,
          outcome: {
            kind: "revoked",
            reason: context.reason,
            events,
            audit: audit(revokedAtGoogle),
          },
        },
      ]);
      return { revokedAtGoogle, marked: changed.has(sub) };
    },
    { wait: true },
  );
  deps.tokens.forget(sub);
  // A revocation that changed nothing is still recorded: someone asked for it.
  if (!outcome.marked)
    await deps.store.appendAuditEvent({ sub, ...audit(outcome.revokedAtGoogle) });
  if (outcome.marked) deps.events.emit("credential.revoked", announcement);
  return { revokedAtGoogle: outcome.revokedAtGoogle };
}

/**
 * The refresh token stored for `sub`, if any. A credential no key opens cannot be revoked at
 * Google, but must not stop its revocation here: it reads as none.
 */
function storedRefreshToken(read: CredentialsRead, sub: string): string | null | undefined {
  try {
    return read.credential(sub)?.refreshToken;
  } catch (error) {
    if (isStewardError(error, "credential_corrupt")) return undefined;
    throw error;
  }
}
