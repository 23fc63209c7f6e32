export { openVault, type Vault, type VaultOptions } from "./vault.js";
