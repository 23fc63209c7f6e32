import { StewardError } from "../errors.js";
import { tokenRevocation } from "../oauth/grants.js";
import type { RevokeDependencies } from "./revoke.js";

/**
 * Forgets a user under their lock, the one sign-ins and refreshes take: revoke at Google the
 * grant stored at that moment (if Google cannot be reached nothing is erased, so the call can
 * be retried), then erase the user and their credential, record `credential.revoked` and queue
 * its announcement in one transaction. A sign-in racing the deletion lands wholly before it
 * (its new grant is revoked with the rest) or wholly after (a new user).
 *
 * @returns whether Google still knew the grant (false: already revoked there, or no refresh
 *   token could be read to revoke, e.g. a credential no key of the ring opens).
 * @throws StewardError `user_not_found`; `upstream_unavailable`, `client_rejected`,
 *   `upstream_rejected` (nothing erased); `credential_busy`, `key_missing`.
 * @example
 *   await deleteUser(deps, sub, { reason: "deleted_by_admin", actor: "api_key:abc" });
 */
export async function deleteUser(
  deps: RevokeDependencies,
  sub: string,
  context: { reason: string; actor: string },
): Promise<{ revokedAtGoogle: boolean }> {
  const announcement = { sub, reason: context.reason };
  let revokedAtGoogle = false;
  let announced = false;
  const existed = await deps.store.deleteUser(sub, async (credential) => {
    revokedAtGoogle = credential?.refreshToken
      ? await tokenRevocation(deps.oauth, credential.refreshToken)
      : false;
    announced = credential?.status === "active";
    return {
      audit: [
        {
          type: "credential.revoked",
          actor: context.actor,
          data: { reason: context.reason, revokedAtGoogle },
        },
      ],
      events: announced ? [{ event: "credential.revoked", payload: announcement }] : [],
    };
  });
  if (!existed) throw new StewardError("user_not_found");
  deps.tokens.forget(sub);
  if (announced) deps.events.emit("credential.revoked", announcement);
  return { revokedAtGoogle };
}
