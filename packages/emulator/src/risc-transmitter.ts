import { randomBytes } from "node:crypto";
import type { SigningKeys } from "./keys.js";
import { type RedeliveryPolicy, RiscDeliveries, type RiscDelivery } from "./risc-deliveries.js";
import { RISC_ISSUER } from "./risc-events.js";

/** The project's RISC stream, as `stream:update` configured it. */
export interface RiscStream {
  receiverUrl: string;
  /** Full event-type URIs, as requested. */
  eventsRequested: string[];
  enabled: boolean;
}

/** One event for one audience: the `events` member of its SET. */
export interface RiscEventToSend {
  readonly eventType: string;
  readonly audience: string;
  readonly body: Record<string, unknown>;
}

/**
 * Google's side of RISC in the emulator: the project's stream and the SETs it pushes. Each SET
 * is signed with the emulator's current ID-token key, as Google signs SETs with the keys at
 * its `jwks_uri`.
 */
export class RiscTransmitter {
  stream: RiscStream | undefined;
  readonly deliveries: RiscDeliveries;

  constructor(
    private readonly keys: SigningKeys,
    private readonly now: () => number,
    policy: () => RedeliveryPolicy,
  ) {
    this.deliveries = new RiscDeliveries(policy);
  }

  /** Signs one SET per event and queues it for `receiverUrl`. */
  send(events: readonly RiscEventToSend[], receiverUrl: string): RiscDelivery[] {
    return events.map((event) => {
      const jti = randomBytes(16).toString("hex");
      const set = this.keys.sign(
        {
          iss: RISC_ISSUER,
          aud: event.audience,
          iat: Math.floor(this.now() / 1000),
          jti,
          events: { [event.eventType]: event.body },
        },
        "secevent+jwt",
      );
      return this.deliveries.enqueue({
        set,
        jti,
        eventType: event.eventType,
        audience: event.audience,
        receiverUrl,
      });
    });
  }
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Where the emulator may push SETs: HTTPS, as Google requires, or plain HTTP to loopback, which
 * only the emulator allows, for receivers started by tests and on a developer's machine.
 */
export function receiverUrlProblem(value: string): "invalid" | "not_https" | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "invalid";
  }
  if (url.username || url.password || url.hash) return "invalid";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return url.protocol === "http:" ? "not_https" : "invalid";
}
