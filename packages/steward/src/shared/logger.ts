/**
 * The little the vault logs through: pino's `Logger` fits, and so does anything with these
 * four methods. Log entries carry `sub`, `kid` and reason codes, never a token or a key.
 */
export interface VaultLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Logs nothing; the default when no logger is given. */
export const silentLogger: VaultLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
