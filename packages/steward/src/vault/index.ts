export { SealingStore } from "./sealing-store.js";
export { openVault, type Vault, type VaultOptions } from "./vault.js";
