import type { EventBus, StewardEventName, StewardEvents } from "../events/bus.js";
import type { SecurityEvent, SecurityEventToken } from "../google/security-event.js";
import type {
  AuditEventInput,
  ChangeEvent,
  SecurityEventRecord,
  SecurityRevocation,
  VaultStore,
} from "../store/index.js";
import type { TokenManager } from "../tokens/token-manager.js";
import type { SecurityEventVerifier } from "./security-event-verifier.js";
import { refreshTokenMatcher } from "./token-identifier.js";

export interface SecurityEventDependencies {
  verifier: SecurityEventVerifier;
  store: VaultStore;
  tokens: TokenManager;
  events: EventBus;
  logger?: { info(fields: object, message: string): void };
}

/** The audit log's actor of everything a security event does. */
const ACTOR = "google_risc";

/** An event for the bus and the webhook outbox, typed by its name. */
type Announcement = {
  [E in StewardEventName]: { event: E; payload: StewardEvents[E] };
}[StewardEventName];

/** What one security event asks of us: writes for the store, announcements for the app. */
interface Plan {
  revocations: SecurityRevocation[];
  accountStates: SecurityEventRecord["accountStates"][number][];
  audit: AuditEventInput[];
  announcements: Announcement[];
}

/**
 * Acts on a security event token from Google's Cross-Account Protection (RISC), as Google asks:
 * verify it, then, once per `jti`, in one transaction with the record of its jti:
 * - `tokens-revoked`: the user's credential is revoked;
 * - `token-revoked`: the credential whose refresh token the event names (by prefix or double
 *   SHA-512) is revoked; found by opening the active credentials (see `findRefreshTokens`);
 * - `account-disabled`: the user is flagged disabled (with Google's reason) and, for
 *   `hijacking`, their credential is revoked;
 * - `account-enabled`: the flag is cleared; `sessions-revoked` and
 *   `account-credential-change-required` are announced for the app to act on;
 * - `verification`: logged.
 * Each event is written to the audit log and announced (bus and webhook); a revocation is
 * also announced as `credential.revoked`, forgotten from the token cache, and the user's jobs
 * then fail with `credential_revoked`. Google already ended the grant: nothing is sent to it.
 *
 * @returns `duplicate` when this jti was acted on before (nothing is done again).
 * @throws StewardError `security_event_invalid`, `upstream_unavailable`, `upstream_rejected`
 *   (see {@link SecurityEventVerifier.verify}); `database_unavailable`.
 */
export async function receiveSecurityEvent(
  deps: SecurityEventDependencies,
  token: string,
): Promise<{ jti: string; duplicate: boolean; revoked: readonly string[] }> {
  const set = await deps.verifier.verify(token);
  // Known already: skip the search a token-revoked event needs. The insert below decides.
  if (await deps.store.hasSecurityEvent(set.jti)) return duplicate(deps, set);
  const plan: Plan = { revocations: [], accountStates: [], audit: [], announcements: [] };
  const subs = new Set<string>();
  for (const event of set.events) {
    for (const sub of await planEvent(deps, set.jti, event, plan)) subs.add(sub);
  }
  const outcome = await deps.store.recordSecurityEvent({
    jti: set.jti,
    eventTypes: set.events.map((event) => event.type),
    sub: subs.size === 1 ? ([...subs][0] as string) : null,
    revocations: plan.revocations,
    accountStates: plan.accountStates,
    audit: plan.audit,
    events: plan.announcements as ChangeEvent[],
  });
  if (outcome === undefined) return duplicate(deps, set);
  for (const sub of outcome.revoked) deps.tokens.forget(sub);
  for (const { event, payload } of plan.announcements) {
    deps.events.emit(event, payload as StewardEvents[typeof event]);
  }
  // A user revoked by two events of one SET was revoked (and is announced) once, by the first.
  for (const sub of outcome.revoked) {
    const reason = plan.revocations.find((revocation) => revocation.sub === sub)?.reason;
    if (reason !== undefined) deps.events.emit("credential.revoked", { sub, reason });
  }
  deps.logger?.info(
    {
      jti: set.jti,
      eventTypes: set.events.map((event) => event.kind ?? "unknown"),
      revoked: outcome.revoked.length,
    },
    "security event received",
  );
  return { jti: set.jti, duplicate: false, revoked: outcome.revoked };
}

function duplicate(deps: SecurityEventDependencies, set: SecurityEventToken) {
  deps.logger?.info({ jti: set.jti }, "security event already received; ignored");
  return { jti: set.jti, duplicate: true, revoked: [] };
}

/** Adds one event's writes and announcements to the plan; returns the users it is about. */
async function planEvent(
  { store, logger }: SecurityEventDependencies,
  jti: string,
  event: SecurityEvent,
  plan: Plan,
): Promise<string[]> {
  const { subject } = event;
  const sub = subject.kind === "user" ? subject.sub : undefined;
  const audit = (type: string, data: Record<string, unknown> = {}, about = sub) =>
    plan.audit.push({ type, sub: about, actor: ACTOR, data: { jti, ...data } });
  const revoke = (about: string, reason: string, extra: Partial<SecurityRevocation> = {}) =>
    plan.revocations.push({
      sub: about,
      reason,
      audit: {
        type: "credential.revoked",
        sub: about,
        actor: ACTOR,
        data: { reason, jti, revokedAtGoogle: false },
      },
      events: [{ event: "credential.revoked", payload: { sub: about, reason } }],
      ...extra,
    });

  switch (event.kind) {
    case "tokens-revoked":
      if (sub === undefined) break;
      audit("risc.tokens_revoked");
      revoke(sub, "risc_tokens_revoked");
      return [sub];
    case "token-revoked": {
      if (subject.kind !== "refresh_token") break;
      const matches = refreshTokenMatcher(subject.alg, subject.identifier);
      const found = await store.findRefreshTokens(matches);
      // The identifier itself is never written: it is (a part of) a live token.
      audit(
        "risc.token_revoked",
        { tokenIdentifierAlg: subject.alg, matched: found.length },
        found.length === 1 ? found[0] : undefined,
      );
      for (const each of found)
        revoke(each, "risc_token_revoked", { refreshTokenMatches: matches });
      return found;
    }
    case "account-disabled": {
      if (sub === undefined) break;
      const reason = event.reason ?? null;
      audit("risc.account_disabled", { reason });
      plan.accountStates.push({ sub, disabled: { reason } });
      plan.announcements.push({ event: "risc.account_disabled", payload: { sub, reason } });
      // Hijacking: Google requires ending the sessions; the stored grant is the longest one.
      if (reason === "hijacking") revoke(sub, "risc_account_hijacked");
      return [sub];
    }
    case "account-enabled":
      if (sub === undefined) break;
      audit("risc.account_enabled");
      plan.accountStates.push({ sub, disabled: null });
      plan.announcements.push({ event: "risc.account_enabled", payload: { sub } });
      return [sub];
    case "sessions-revoked":
      if (sub === undefined) break;
      audit("risc.sessions_revoked");
      plan.announcements.push({ event: "risc.sessions_revoked", payload: { sub } });
      return [sub];
    case "account-credential-change-required":
      if (sub === undefined) break;
      audit("risc.credential_change_required");
      plan.announcements.push({ event: "risc.credential_change_required", payload: { sub } });
      return [sub];
    case "verification": {
      const state = event.state ?? null;
      // Google's test of the stream (stream:verify): the log and the audit trail are its
      // evidence; it is about no user, so the app is not told.
      audit("risc.verification", { state });
      logger?.info({ jti, state }, "RISC verification event received");
      return [];
    }
    default:
      break;
  }
  // A type we do not act on, or a known type about a subject it cannot be about: recorded only.
  audit("risc.event_ignored", { eventType: event.type, subjectKind: subject.kind });
  return sub === undefined ? [] : [sub];
}
