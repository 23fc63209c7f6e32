/**
 * The layering of docs/architecture.md, enforced by `npm test` so the picture stays true:
 * server, cli and jobs sit on top; nothing below imports them; the emulator is a package of its
 * own (packages/emulator) that imports nothing of Steward, and Steward reaches it through one door
 * only (src/google/emulator-package.ts, loaded in emulator mode). The photo demo (packages/demo)
 * is an app on top of the product: it imports only its public entry, and the product never
 * imports it (the service mounts it through its app seam, src/server/apps.ts).
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
        "Only cli, jobs and the public entry (and server itself) may import server; only cli imports cli.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/(server|cli|jobs)/", "^src/index\\.ts$"] },
      to: { path: "^src/(server|cli)/" },
    },
    {
      name: "the-product-never-imports-the-demo",
      comment: "The demo is an app mounted through the app seam; the product does not know it.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^packages/demo/" },
    },
    {
      name: "the-demo-uses-the-public-api",
      comment:
        "packages/demo/src imports the product only by its public entry (`steward`, src/index.ts).",
      severity: "error",
      from: { path: "^packages/demo/src/" },
      to: {
        path: "^(src|test|bench|dist|packages)/",
        pathNot: ["^src/index\\.ts$", "^packages/demo/src/"],
      },
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
