/**
 * The layering of docs/architecture.md, enforced by `npm test` so the picture stays true:
 * server, cli, jobs and the demo app sit on top; nothing below imports them; the emulator is a
 * package of its own (packages/emulator) that imports nothing of Steward, and Steward reaches it
 * through one door only (src/google/emulator-package.ts, loaded in emulator mode).
 */
module.exports = {
  forbidden: [
    {
      name: "emulator-stands-alone",
      comment: "@steward/emulator imports nothing of Steward (nor of another package here).",
      severity: "error",
      from: { path: "^packages/emulator/" },
      to: { path: "^(src|packages)/", pathNot: ["^packages/emulator/"] },
    },
    {
      name: "emulator-through-the-seam",
      comment:
        "Steward loads @steward/emulator in src/google/emulator-package.ts only (never from core/): the service, CLI and library hand its starter to openCore.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/google/emulator-package\\.ts$"] },
      to: { path: "^packages/emulator/|(^|/)node_modules/@steward/emulator/" },
    },
    {
      name: "nothing-imports-the-top",
      comment:
        "Only cli, jobs and demo (and server itself) may import server; only cli imports cli.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/(server|cli|jobs|demo)/"] },
      to: { path: "^src/(server|cli)/" },
    },
    {
      name: "demo-is-a-leaf",
      comment: "The demo photo app sits on top: only server (which mounts it) and cli use it.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/(server|cli|demo)/"] },
      to: { path: "^src/demo/" },
    },
    {
      name: "lower-layers-stay-low",
      comment:
        "vault, oauth, identity and google do not reach up into tokens, access, jobs or events.",
      severity: "error",
      from: { path: "^src/(vault|oauth|identity|google|config)/" },
      to: { path: "^src/(signin|tokens|access|jobs|events|server|cli)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
