import { StewardError } from "../errors.js";
import { riscManagementJwt, type ServiceAccountKey } from "./service-account-key.js";

export const RISC_PUSH_DELIVERY = "https://schemas.openid.net/secevent/risc/delivery-method/push";

/** A project's RISC stream, as Google's management API describes it (camelCase here). */
export interface RiscStreamConfig {
  readonly receiverUrl: string;
  readonly eventsRequested: readonly string[];
}

export interface RiscManagementOptions {
  /** Base of the RISC API: `https://risc.googleapis.com`, or the emulator's URL. */
  readonly apiUrl: string;
  readonly key: ServiceAccountKey;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Per call; 10000 by default. */
  readonly timeoutMs?: number;
}

/**
 * Google's RISC management API, called as a service account: configure the project's stream
 * (`stream:update`), read it (`stream`, `stream/status`), turn it on or off
 * (`stream/status:update`), and ask for a verification event (`stream:verify`).
 *
 * @throws StewardError `upstream_rejected` when Google answers 4xx (its message, which names no
 *   secret, is kept), `upstream_unavailable` when it cannot be reached or answers 5xx.
 * @example
 *   const risc = riscManagement({ apiUrl: "https://risc.googleapis.com", key });
 *   await risc.updateStream({ receiverUrl: "https://steward.example.com/v1/risc", eventsRequested: Object.values(SECURITY_EVENT_TYPES) });
 */
export function riscManagement(options: RiscManagementOptions) {
  const base = options.apiUrl.replace(/\/+$/, "");
  const call = async (method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> => {
    const token = await riscManagementJwt(options.key, (options.now ?? Date.now)());
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: "error",
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new StewardError("upstream_unavailable", {
        message: `The RISC API at ${base} could not be reached.`,
        cause: error,
      });
    }
    const text = await response.text();
    const json = parseJson(text);
    if (response.ok) return json ?? {};
    const googleMessage = errorMessage(json);
    const said = googleMessage ? `: ${googleMessage}` : "";
    throw new StewardError(response.status >= 500 ? "upstream_unavailable" : "upstream_rejected", {
      message: `The RISC API answered ${response.status} to ${method} ${path}${said}`,
      detail: `risc ${method} ${path} -> ${response.status}`,
    });
  };
  return {
    /** Sets where Google pushes events and which ones. */
    async updateStream(config: RiscStreamConfig): Promise<RiscStreamConfig> {
      return parseStream(
        await call("POST", "/v1beta/stream:update", {
          delivery: { delivery_method: RISC_PUSH_DELIVERY, url: config.receiverUrl },
          events_requested: config.eventsRequested,
        }),
      );
    },
    async getStream(): Promise<RiscStreamConfig> {
      return parseStream(await call("GET", "/v1beta/stream"));
    },
    async getStatus(): Promise<"enabled" | "disabled" | string> {
      return stringField(await call("GET", "/v1beta/stream/status"), "status");
    },
    async updateStatus(status: "enabled" | "disabled"): Promise<string> {
      return stringField(await call("POST", "/v1beta/stream/status:update", { status }), "status");
    },
    /** Asks Google to push a verification event carrying `state` to the receiver. */
    async verify(state: string): Promise<void> {
      await call("POST", "/v1beta/stream:verify", { state });
    },
  };
}

export type RiscManagement = ReturnType<typeof riscManagement>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorMessage(json: unknown): string | undefined {
  const message = (json as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === "string" ? message.slice(0, 300) : undefined;
}

function stringField(json: unknown, name: string): string {
  const value = (json as Record<string, unknown> | undefined)?.[name];
  if (typeof value === "string") return value;
  throw new StewardError("upstream_rejected", {
    message: `The RISC API's answer lacks ${name}.`,
  });
}

function parseStream(json: unknown): RiscStreamConfig {
  const body = json as { delivery?: { url?: unknown }; events_requested?: unknown } | undefined;
  const url = body?.delivery?.url;
  const events = body?.events_requested;
  if (
    typeof url !== "string" ||
    !Array.isArray(events) ||
    !events.every((e) => typeof e === "string")
  ) {
    throw new StewardError("upstream_rejected", {
      message: "The RISC API's stream configuration lacks delivery.url or events_requested.",
    });
  }
  return { receiverUrl: url, eventsRequested: events };
}
