import type * as oidc from "openid-client";
import { isStewardError } from "../errors.js";
import type { EventBus } from "../events/bus.js";
import { tokenRevocation } from "../oauth/grants.js";
import type { TokenManager } from "../tokens/token-manager.js";
import type { VaultStore } from "../vault/store.js";

export interface RevokeDependencies {
  store: VaultStore;
  oauth: oidc.Configuration;
  tokens: TokenManager;
  events: EventBus;
}

/**
 * Ends a user's grant: revoke it at Google first (if Google cannot be reached the tokens are
 * kept, so the revocation can be retried), then mark the credential revoked, forget the cached
 * token, record and announce it.
 *
 * @returns whether Google still knew the grant (false: it was already revoked there, or no
 *   refresh token could be read to revoke, e.g. a credential no key of the ring opens).
 * @throws StewardError `upstream_unavailable`, `client_rejected`, `upstream_rejected`.
 */
export async function revokeGrant(
  deps: RevokeDependencies,
  sub: string,
  context: { reason: string; actor: string },
): Promise<{ revokedAtGoogle: boolean }> {
  // A credential no key opens cannot be revoked at Google, but must not stop its erasure.
  const credential = await deps.store.getCredential(sub).catch((error: unknown) => {
    if (isStewardError(error, "credential_corrupt")) return undefined;
    throw error;
  });
  const revokedAtGoogle = credential?.refreshToken
    ? await tokenRevocation(deps.oauth, credential.refreshToken)
    : false;
  const announcement = { sub, reason: context.reason };
  // False when there was no active credential: nothing to announce.
  const marked = await deps.store.markRevoked(sub, context.reason, {
    events: [{ event: "credential.revoked", payload: announcement }],
  });
  deps.tokens.forget(sub);
  await deps.store.appendAuditEvent({
    type: "credential.revoked",
    sub,
    actor: context.actor,
    data: { reason: context.reason, revokedAtGoogle },
  });
  if (marked) deps.events.emit("credential.revoked", announcement);
  return { revokedAtGoogle };
}
