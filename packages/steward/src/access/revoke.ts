import { isStewardError } from "../errors.js";
import type { EventBus } from "../events/bus.js";
import type { OAuthClient } from "../oauth/client.js";
import { tokenRevocation } from "../oauth/grants.js";
import type { AuditEventInput, VaultStore } from "../store/index.js";
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
  let outcome: { revokedAtGoogle: boolean; marked: boolean };
  try {
    outcome = await deps.store.withCredentialLock(sub, async (locked) => {
      const refreshToken = locked.credential?.refreshToken;
      const revokedAtGoogle = refreshToken
        ? await tokenRevocation(deps.oauth, refreshToken)
        : false;
      // False when there was no active credential: nothing changed, nothing to announce.
      const marked = await locked.markRevoked(context.reason, "revoked", {
        events,
        audit: audit(revokedAtGoogle),
      });
      return { revokedAtGoogle, marked };
    });
  } catch (error) {
    // A credential no key opens cannot be revoked at Google, but must not stop its revocation.
    if (!isStewardError(error, "credential_corrupt")) throw error;
    const marked = await deps.store.markRevoked(sub, context.reason, {
      events,
      audit: audit(false),
    });
    outcome = { revokedAtGoogle: false, marked };
  }
  deps.tokens.forget(sub);
  // A revocation that changed nothing is still recorded: someone asked for it.
  if (!outcome.marked)
    await deps.store.appendAuditEvent({ sub, ...audit(outcome.revokedAtGoogle) });
  if (outcome.marked) deps.events.emit("credential.revoked", announcement);
  return { revokedAtGoogle: outcome.revokedAtGoogle };
}
