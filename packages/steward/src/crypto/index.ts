export * from "./credential-codec.js";
export * from "./envelope.js";
export * from "./key-usage.js";
export * from "./keyring.js";
export * from "./keyring-source.js";
export * from "./rotation.js";
export * from "./seed-sealing.js";
