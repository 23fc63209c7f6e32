import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { StewardError } from "../errors.js";
import { buildEmulatorApp } from "./app.js";
import type { EmulatorContext } from "./context.js";
import { Faults } from "./faults.js";
import { SigningKeys } from "./keys.js";
import type { EmulatorClient } from "./model.js";
import { RiscTransmitter } from "./risc-transmitter.js";
import { ServiceAccounts } from "./service-accounts.js";
import { EmulatorState } from "./state.js";

export { clientSecretJson, writeClientSecretFile } from "./client-secret.js";
export type { EmulatorClient, EmulatorSettings, EmulatorUser } from "./model.js";
export { EmulatorState } from "./state.js";

export interface EmulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Listen address; loopback by default. */
  host?: string;
  /** `iss` of the ID tokens it signs; Google's `https://accounts.google.com` by default. */
  issuer?: string;
  /** The default web client; generated when not given. */
  defaultClient?: {
    clientId?: string;
    clientSecret?: string;
    redirectUris?: string[];
    javascriptOrigins?: string[];
  };
  /** Clock in milliseconds since the epoch, for tests that move time. */
  now?: () => number;
  /** Log requests with pino (true), or into this logger; query values are never logged. */
  logger?: boolean | FastifyBaseLogger;
}

/** A running local Google. */
export interface Emulator {
  /** Base URL every Google endpoint is served under, e.g. `http://127.0.0.1:9099`. */
  readonly url: string;
  readonly port: number;
  /** The web client registered at start, as a `client_secret.json` describes it. */
  readonly defaultClient: EmulatorClient;
  readonly state: EmulatorState;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export const GOOGLE_ISSUER = "https://accounts.google.com";

/**
 * Starts the local Google emulator over HTTP on loopback.
 *
 * @throws StewardError `port_in_use` when the port is taken.
 * @example
 *   const google = await startEmulator({ port: 0 });
 *   const tokenUrl = `${google.url}/token`;
 *   await google.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(options.now);
  const keys = await SigningKeys.create();
  const ctx: EmulatorContext = {
    state,
    keys,
    issuer: options.issuer ?? GOOGLE_ISSUER,
    risc: new RiscTransmitter(keys, state.now, () => state.settings),
    serviceAccounts: new ServiceAccounts(state.projectId),
  };
  const app = await buildEmulatorApp(ctx, new Faults(), { logger: options.logger ?? false });
  const host = options.host ?? "127.0.0.1";
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new StewardError("port_in_use", {
        message: `Port ${options.port} on ${host} is already in use.`,
        cause: error,
      });
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost === "0.0.0.0" ? "127.0.0.1" : urlHost}:${port}`;
  const defaultClient = state.registerClient({
    type: "web",
    ...options.defaultClient,
    redirectUris: options.defaultClient?.redirectUris ?? [`${url}/oauth2callback`],
    javascriptOrigins: options.defaultClient?.javascriptOrigins ?? [url],
  });
  return { url, port, defaultClient, state, app, close: () => app.close() };
}
