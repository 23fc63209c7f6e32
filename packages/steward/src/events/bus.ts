import { EventEmitter } from "node:events";

/** What Steward tells the backend about credentials. No event ever carries a token. */
export interface StewardEvents {
  "credential.created": { sub: string; grantedScopes: readonly string[] };
  "credential.refreshed": { sub: string; expiresAt: Date };
  /** `likelyCause` `testing_mode_expiry`: died seven days after issue (app in Testing). */
  "credential.revoked": { sub: string; reason: string; likelyCause?: string };
  "credential.scopes_changed": {
    sub: string;
    added: readonly string[];
    removed: readonly string[];
  };
  /** Google refused our OAuth client: a configuration fault, not the user's. */
  "config.client_rejected": { sub: string; reason: string };
  /** Google (RISC) says the user's sessions were ended: end the app's sessions of the user. */
  "risc.sessions_revoked": { sub: string };
  /** Google (RISC) disabled the account; `reason` as Google gave it (`hijacking`, `bulk-account`). */
  "risc.account_disabled": { sub: string; reason: string | null };
  /** Google (RISC) re-enabled the account. */
  "risc.account_enabled": { sub: string };
  /** Google (RISC) asks the user to change their credentials: watch for suspicious activity. */
  "risc.credential_change_required": { sub: string };
}

export type StewardEventName = keyof StewardEvents;
export type StewardEventHandler<E extends StewardEventName> = (payload: StewardEvents[E]) => void;

/**
 * The in-process event bus. A throwing handler is reported through `onHandlerError` and never
 * breaks the emitter or the other handlers.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor(
    private readonly onHandlerError: (error: unknown, event: StewardEventName) => void = () => {},
  ) {
    this.emitter.setMaxListeners(100);
  }

  on<E extends StewardEventName>(event: E, handler: StewardEventHandler<E>): () => void {
    const safe = (payload: StewardEvents[E]) => {
      try {
        handler(payload);
      } catch (error) {
        this.onHandlerError(error, event);
      }
    };
    this.emitter.on(event, safe);
    return () => this.emitter.off(event, safe);
  }

  emit<E extends StewardEventName>(event: E, payload: StewardEvents[E]): void {
    this.emitter.emit(event, payload);
  }
}
