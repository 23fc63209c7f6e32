export { type Database, type DatabaseOptions, DEFAULT_DATA_DIR, openDatabase } from "./database.js";
export {
  attachEmbeddedPostgres,
  type ConnectionSettings,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  startEmbeddedPostgres,
} from "./embedded-postgres.js";
export { ENVELOPE_VERSION, envelopeKid, openSecret, sealSecret } from "./envelope.js";
export { assertKeyringCoversStoredKids, type KeyUsage, keyUsage } from "./key-usage.js";
export { generateKeyLine, Keyring } from "./keyring.js";
export { type KeyringSourceOptions, loadKeyring } from "./keyring-source.js";
export { silentLogger, type VaultLogger } from "./logger.js";
export { MIGRATION_NAMES, migrate } from "./migrations.js";
export { PostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
export {
  type RotationOptions,
  type RotationProgress,
  type RotationSummary,
  rotateCredentials,
} from "./rotation.js";
export type * from "./store.js";
export { openVault, type Vault, type VaultOptions } from "./vault.js";
