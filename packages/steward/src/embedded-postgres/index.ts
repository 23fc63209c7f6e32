export * from "./data-dir-lock.js";
export * from "./embedded-account.js";
export * from "./embedded-binaries.js";
export * from "./embedded-postgres.js";
export * from "./embedded-server.js";
export * from "./embedded-shutdown.js";
export * from "./postmaster.js";
