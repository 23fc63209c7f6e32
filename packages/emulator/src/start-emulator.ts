import { resolve } from "node:path";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { buildEmulatorApp } from "./app.js";
import type { EmulatorContext } from "./context.js";
import { AppDataStore } from "./drive-store.js";
import { EmulatorError } from "./errors.js";
import { Faults } from "./faults.js";
import { SigningKeys } from "./keys.js";
import type { EmulatorClient } from "./model.js";
import { captureParts, type EmulatorParts, restoreParts } from "./persistence.js";
import { PhotosStore } from "./photos-store.js";
import { RiscTransmitter } from "./risc-transmitter.js";
import { ServiceAccounts } from "./service-accounts.js";
import { EmulatorState } from "./state.js";
import { StateFile } from "./state-file.js";

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
  /**
   * Keep the state (clients, users, grants, tokens, keys, Drive files, photos, settings) in this
   * directory, restored at start and saved on every change and at close; in memory when unset.
   */
  dataDir?: string;
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
  /** The directory its state is kept in; undefined when it lives in memory only. */
  readonly stateDir: string | undefined;
  /** Stops serving and, when persisted, saves the state a last time. */
  close(): Promise<void>;
}

export const GOOGLE_ISSUER = "https://accounts.google.com";

/**
 * Starts the local Google emulator over HTTP on loopback.
 *
 * @throws EmulatorError `port_in_use` when the port is taken; `emulator_state_corrupt` when the
 *   state saved in `dataDir` cannot be read (naming the file).
 * @example
 *   const google = await startEmulator({ port: 0 });
 *   const tokenUrl = `${google.url}/token`;
 *   await google.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(options.now);
  const issuer = options.issuer ?? GOOGLE_ISSUER;
  const stateDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  let ctx: EmulatorContext | undefined;
  let defaultClientId = "";
  const stateFile =
    stateDir === undefined
      ? undefined
      : new StateFile<EmulatorParts>(
          stateDir,
          (blobs) => captureParts(ctx as EmulatorContext, defaultClientId, blobs),
          (error) => {
            // Unsaved changes are lost at the next crash: say so even without a logger.
            if (options.logger) app.log.error({ err: error }, "saving the emulator state failed");
            else process.emitWarning(`Saving the emulator state in ${stateDir} failed: ${error}`);
          },
        );
  const savedDefaultClientId = await stateFile?.load(async (parts, blobs) => {
    ctx = newContext(state, await SigningKeys.restore(parts.keys), issuer);
    restoreParts(ctx, parts, blobs);
    return parts.defaultClientId;
  });
  ctx ??= newContext(state, await SigningKeys.create(), issuer);
  const app = await buildEmulatorApp(ctx, new Faults(), {
    logger: options.logger ?? false,
    onChange: stateFile && (() => stateFile.changed()),
  });
  const host = options.host ?? "127.0.0.1";
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new EmulatorError("port_in_use", `Port ${options.port} on ${host} is already in use.`, {
        cause: error,
      });
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost === "0.0.0.0" ? "127.0.0.1" : urlHost}:${port}`;
  const wanted = options.defaultClient;
  const urls = {
    redirectUris: wanted?.redirectUris ?? [`${url}/oauth2callback`],
    javascriptOrigins: wanted?.javascriptOrigins ?? [url],
  };
  // A restored default client keeps its id and secret; its URLs follow this start's address.
  const saved = state.clients.get(wanted?.clientId ?? savedDefaultClientId ?? "");
  const defaultClient: EmulatorClient = saved
    ? { ...saved, ...urls, clientSecret: wanted?.clientSecret ?? saved.clientSecret }
    : state.registerClient({ type: "web", ...wanted, ...urls });
  state.clients.set(defaultClient.clientId, defaultClient);
  defaultClientId = defaultClient.clientId;
  try {
    // Saved at once: a directory that cannot be written fails the start, not a later save.
    await stateFile?.save();
  } catch (error) {
    await app.close();
    throw error;
  }
  return {
    url,
    port,
    defaultClient,
    state,
    app,
    stateDir,
    close: async () => {
      try {
        await app.close();
      } finally {
        await stateFile?.close();
      }
    },
  };
}

function newContext(state: EmulatorState, keys: SigningKeys, issuer: string): EmulatorContext {
  return {
    state,
    keys,
    issuer,
    risc: new RiscTransmitter(keys, state.now, () => state.settings),
    serviceAccounts: new ServiceAccounts(state.projectId),
    drive: new AppDataStore(state.now),
    photos: new PhotosStore(state.now),
  };
}
