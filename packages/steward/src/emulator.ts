// `steward/emulator`: the local Google, as Steward exported it before it became a package of its
// own. It is `@steward/emulator` re-exported, an optional peer dependency: importing this entry
// needs it installed; `import "steward"` never loads it.
export * from "@steward/emulator";
