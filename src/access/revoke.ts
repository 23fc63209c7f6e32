import type * as oidc from "openid-client";
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
 * @returns whether Google still knew the grant (false: it was already revoked there).
 * @throws StewardError `upstream_unavailable`, `client_rejected`, `upstream_rejected`.
 */
export async function revokeGrant(
  deps: RevokeDependencies,
  sub: string,
  context: { reason: string; actor: string },
): Promise<{ revokedAtGoogle: boolean }> {
  const credential = await deps.store.getCredential(sub);
  const revokedAtGoogle = credential?.refreshToken
    ? await tokenRevocation(deps.oauth, credential.refreshToken)
    : false;
  const announcement = { sub, reason: context.reason };
  const marked = credential
    ? await deps.store.markRevoked(sub, context.reason, {
        events: [{ event: "credential.revoked", payload: announcement }],
      })
    : false;
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
