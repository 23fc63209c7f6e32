/**
 * The seam between Steward and a local Google it starts in emulator mode. Steward's core knows
 * only these shapes; the emulator itself is a package of its own (`@steward/emulator`), loaded by
 * the service and the library (google/emulator-package.ts) and handed to the core as a
 * {@link StartLocalGoogle}. See docs/emulator.md, "Steward's emulator mode".
 */

/** The web client a local Google registers at start, as a `client_secret.json` describes it. */
export interface LocalGoogleClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly projectId: string;
  readonly redirectUris: readonly string[];
  readonly javascriptOrigins: readonly string[];
}

/** A running local Google. */
export interface LocalGoogle {
  /** Base URL every Google endpoint is served under, e.g. `http://127.0.0.1:9099`. */
  readonly url: string;
  readonly defaultClient: LocalGoogleClient;
  /** The directory its state is kept in; undefined when it lives in memory only. */
  readonly stateDir: string | undefined;
  /** Stops serving and saves its state a last time. */
  close(): Promise<void>;
}

export interface LocalGoogleOptions {
  /** TCP port on loopback; 0 picks a free one. */
  port: number;
  /** Keep users, grants, tokens and keys here across restarts. */
  dataDir: string;
  /** The default web client: a stable id, and the origins of pages that sign users in. */
  defaultClient: { clientId: string; javascriptOrigins: string[]; redirectUris: string[] };
}

/**
 * Starts a local Google.
 *
 * @throws StewardError `port_in_use`, `emulator_state_corrupt`, `emulator_not_installed`.
 */
export type StartLocalGoogle = (options: LocalGoogleOptions) => Promise<LocalGoogle>;
