export * from "./free-port.js";
export * from "./logger.js";
export * from "./scopes.js";
