import type { RefreshResult, UserOutcome, VaultStore } from "../../../src/store/index.js";

/** A refresh of `sub`'s credential, as an outcome for `LockedUsers.write`. */
export function refreshed(sub: string, result: RefreshResult): UserOutcome {
  return { sub, outcome: { kind: "refreshed", result } };
}

/**
 * Stores a refresh under the user's lock (waiting for it), as the refresh coordinator does.
 *
 * @returns whether it was kept: only while the credential is active.
 */
export function recordRefresh(
  store: VaultStore,
  sub: string,
  result: RefreshResult,
): Promise<boolean> {
  return store.withLockedUsers(
    [sub],
    async (held) => (await held.write([refreshed(sub, result)])).has(sub),
    { wait: true },
  );
}
