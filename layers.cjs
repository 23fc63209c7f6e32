/**
 * Steward's layers, bottom first: the one list that `.dependency-cruiser.cjs` turns into its
 * rules and that test/architecture/layers.test.ts and test/docs/architecture.test.ts hold against
 * the tree and docs/architecture.md. Add a folder here when you add it to packages/steward/src.
 *
 * A product folder (of packages/steward/src) may import
 * its own files and the folders of the layers below its own, nothing else: folders of one layer
 * do not import each other, and nothing imports upward, so the folders cannot form a cycle.
 * Entries are folders of packages/steward/src or, for `errors.ts`, `index.ts` and `emulator.ts`,
 * files at its top.
 */
const layers = [
  {
    name: "floor",
    folders: ["errors.ts", "shared"],
    holds: "the one catalogue of error codes; the logger type, scope names, free ports",
  },
  {
    name: "postgres",
    folders: ["embedded-postgres"],
    holds: "the embedded PostgreSQL: binaries, cluster, server process, data-dir lock",
  },
  {
    name: "edges",
    folders: ["google", "identity", "store"],
    holds: "Google's protocol, ID tokens, PostgreSQL storage of ciphertext and its migrations",
  },
  {
    name: "keys",
    folders: ["crypto", "api-keys"],
    holds: "the keyring, sealed envelopes and key rotation; API keys",
  },
  { name: "vault", folders: ["vault"], holds: "the store behind one sealing layer" },
  {
    name: "clients",
    folders: ["config", "oauth", "events"],
    holds: "configuration, OAuth, events",
  },
  { name: "sign-in", folders: ["signin"], holds: "the sign-in flow" },
  { name: "tokens", folders: ["tokens"], holds: "offline access tokens" },
  { name: "use", folders: ["access", "risc", "doctor"], holds: "what is done with the tokens" },
  { name: "jobs", folders: ["jobs"], holds: "background jobs for users" },
  { name: "core", folders: ["core"], holds: "the composition every entry opens" },
  { name: "entries", folders: ["library", "server"], holds: "the library and the HTTP service" },
  { name: "cli", folders: ["cli"], holds: "the steward command" },
  {
    name: "public",
    folders: ["index.ts", "emulator.ts"],
    holds: "the package's public entries: `steward`, and `steward/emulator` (@steward/emulator)",
  },
];

/**
 * Imports the layers forbid but the tree still has, each with the change that removes it. The
 * rules let exactly these through; delete an entry once its folder pair is gone.
 */
const exceptions = [];

/**
 * The packages beside the product (packages/<name>/src) and what of the product each may import:
 * the emulator nothing, the demo only the public entry. The product imports no package, but for
 * the emulator through its doors (`importedOnlyBy`): the seam that loads it in emulator mode
 * only, and the public entry `steward/emulator` that re-exports it.
 */
const packages = [
  {
    name: "emulator",
    mayImport: [],
    importedOnlyBy: ["google/emulator-package.ts", "emulator.ts"],
  },
  { name: "demo", mayImport: ["index.ts"] },
];

module.exports = { layers, exceptions, packages };
