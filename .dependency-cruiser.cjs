/**
 * Generated from layers.cjs, the one ordered list of Steward's layers: every folder of the
 * product imports only the layers below its own; the emulator and demo packages import what
 * their entry there allows; no module and no folder takes part in a cycle.
 */
const { layers, exceptions, packages } = require("./layers.cjs");

/** The product's source folder: the package `steward`. */
const PRODUCT = "packages/steward/src";
const literal = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A folder (or a top-level file) of the product, by its name in layers.cjs. */
const inProduct = (names) => `^${PRODUCT}/(?:${names.map(literal).join("|")})(?:/|$)`;
const listed = layers.flatMap((layer) => layer.folders);

const layerRules = layers.flatMap((layer, index) => {
  const below = layers.slice(0, index).flatMap((lower) => lower.folders);
  return layer.folders.map((folder) => {
    const excepted = exceptions.filter((e) => e.from === folder).map((e) => e.to);
    return {
      name: `layer-${layer.name}:${folder}`,
      comment: `${folder} (${layer.name}) imports only itself and ${below.join(", ") || "nothing"}${
        excepted.length > 0 ? `; for now also ${excepted.join(", ")} (see layers.cjs)` : ""
      }.`,
      severity: "error",
      from: { path: inProduct([folder]) },
      to: { path: `^${PRODUCT}/`, pathNot: inProduct([folder, ...below, ...excepted]) },
    };
  });
});

const unlisted = {
  name: "folder-in-layers",
  comment: "Every folder of the product is named in layers.cjs.",
  severity: "error",
  from: { path: `^${PRODUCT}/`, pathNot: inProduct(listed) },
  to: {},
};

const packageRules = packages.map(({ name, mayImport }) => ({
  name: `package-${name}`,
  comment: `packages/${name}/src imports ${
    mayImport.length > 0 ? `only ${mayImport.join(", ")}` : "nothing"
  } of the product, and no other package's source.`,
  severity: "error",
  from: { path: `^packages/${name}/` },
  to: {
    path: `^(?:${PRODUCT}/|packages/(?!${name}/)[^/]+/)`,
    pathNot: [
      ...(mayImport.length > 0 ? [`^${PRODUCT}/(?:${mayImport.map(literal).join("|")})$`] : []),
      // The product's built entry, as `import ... from "steward"` resolves it.
      ...(mayImport.includes("index.ts") ? ["^packages/steward/dist/index\\.(?:d\\.ts|js)$"] : []),
    ],
  },
}));

/** The product imports no package beside it, but through the doors a package names. */
const productImportsNoPackage = packages.map(({ name, importedOnlyBy = [] }) => ({
  name: `product-imports-no-${name}`,
  comment:
    importedOnlyBy.length > 0
      ? `Only ${importedOnlyBy.join(" and ")} reach packages/${name} (see layers.cjs).`
      : `The product never imports packages/${name}: it is mounted through a public seam.`,
  severity: "error",
  from: {
    path: `^${PRODUCT}/`,
    ...(importedOnlyBy.length > 0
      ? { pathNot: `^${PRODUCT}/(?:${importedOnlyBy.map(literal).join("|")})$` }
      : {}),
  },
  to: { path: `^packages/${name}/|(^|/)node_modules/@steward/${name}/` },
}));

/** The top folders of the product and of every package: a cycle among them is an error. */
const TOP_FOLDER = "^packages/[^/]+/src/[^/]+$";
const exceptedFolders = [...new Set(exceptions.flatMap((e) => [e.from, e.to]))];
const folderCycleRules = [
  {
    name: "no-folder-cycle",
    comment: "No top folder of the product or a package takes part in a cycle of folders.",
    severity: "error",
    scope: "folder",
    from: {
      path: TOP_FOLDER,
      ...(exceptedFolders.length > 0 ? { pathNot: inProduct(exceptedFolders) } : {}),
    },
    to: { path: TOP_FOLDER, circular: true },
  },
  ...exceptedFolders.map((folder) => {
    const partners = exceptions.flatMap((e) =>
      e.from === folder ? [e.to] : e.to === folder ? [e.from] : [],
    );
    return {
      name: `no-folder-cycle:${folder}`,
      comment: `As no-folder-cycle; the cycle with ${partners.join(", ")} is an exception of layers.cjs.`,
      severity: "error",
      scope: "folder",
      from: { path: `^${PRODUCT}/${literal(folder)}$` },
      to: { path: TOP_FOLDER, pathNot: inProduct(partners), circular: true },
    };
  }),
];

module.exports = {
  forbidden: [
    ...layerRules,
    unlisted,
    ...packageRules,
    ...productImportsNoPackage,
    ...folderCycleRules,
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
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
