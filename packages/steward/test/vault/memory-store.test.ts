import { SealingStore } from "../../src/vault/index.js";
import { MemoryStorage, MemoryStore } from "./support/memory-store.js";
import { describeStoreContract } from "./support/store-contract.js";

// The same contract as PostgreSQL's (store.test.ts), against the in-memory adapter: a second
// adapter needs no cryptography of its own, the sealing store above it does it all.
describeStoreContract("in memory", async () => {
  const storage = new MemoryStorage();
  return {
    open: async (keyring, options = {}) =>
      new SealingStore(new MemoryStore(storage, { lockTimeoutMs: options.lockTimeoutMs }), keyring),
    close: async () => {},
  };
});
