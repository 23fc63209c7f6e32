/**
 * The layering of DESIGN.md, enforced by `npm test` so the picture stays true:
 * server, cli, jobs and the demo app sit on top; nothing below imports them; the emulator imports
 * nothing of Steward but errors, so it can be lifted out as a package of its own.
 */
module.exports = {
  forbidden: [
    {
      name: "emulator-stands-alone",
      comment: "src/emulator may import only src/errors.ts from the rest of Steward.",
      severity: "error",
      from: { path: "^src/emulator/" },
      to: { path: "^src/", pathNot: ["^src/emulator/", "^src/errors\\.ts$"] },
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
        "vault (and the crypto, store, embedded-postgres, api-keys and shared folders it was split into), oauth, identity and google do not reach up into tokens, access, jobs or events.",
      severity: "error",
      from: {
        path: "^src/(vault|crypto|store|embedded-postgres|api-keys|shared|oauth|identity|google|config)/",
      },
      to: { path: "^src/(signin|tokens|access|jobs|events|server|cli)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "shared-is-the-floor",
      comment: "src/shared (logger type, scopes, ports) imports nothing of Steward but errors.",
      severity: "error",
      from: { path: "^src/shared/" },
      to: { path: "^src/", pathNot: ["^src/shared/", "^src/errors\\.ts$"] },
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
