import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { FastifyInstance } from "fastify";

/** `web/` beside `src/` and `dist/`: the same relative path from either. */
const WEB_DIR = new URL("../../web/", import.meta.url);

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

export interface WebAssetOptions {
  /** Extra response headers, e.g. a page's Cross-Origin-Opener-Policy. */
  headers?: Record<string, string>;
}

/**
 * Serves one file of `web/` at `route`. The few static files are read once, at start-up, from a
 * fixed list of names: no path from a request ever reaches the file system. `no-cache` makes
 * browsers revalidate, so a restarted service never runs a stale script against a newer API.
 *
 * @example
 *   await serveWebAsset(app, "/admin", "admin.html");
 */
export async function serveWebAsset(
  app: FastifyInstance,
  route: string,
  file: string,
  options: WebAssetOptions = {},
): Promise<void> {
  if (!/^[a-z-]+\.(html|js|css)$/.test(file)) throw new TypeError(`not a web asset: ${file}`);
  const body = await readFile(new URL(file, WEB_DIR));
  const type = TYPES[file.split(".").pop() as string] as string;
  app.get(route, { schema: { hide: true } }, async (_request, reply) => {
    for (const [name, value] of Object.entries(options.headers ?? {})) reply.header(name, value);
    return reply.type(type).header("cache-control", "no-cache").send(body);
  });
}

/**
 * Files of npm packages the pages load, by the name a page asks for: a fixed list, resolved
 * through Node's module resolution at start-up (wherever npm put the package).
 */
const PACKAGE_ASSETS: Readonly<Record<string, string>> = {
  "uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
  "uPlot.min.css": "uplot/dist/uPlot.min.css",
};
const resolvePackageFile = createRequire(import.meta.url).resolve;

/**
 * Serves one file of an npm dependency at `route`, named by its key in a fixed list: read once
 * at start-up, so no request path reaches the file system. Versioned by package.json, so it
 * may be cached like any release file; `no-cache` keeps upgrades simple all the same.
 *
 * @example
 *   await servePackageAsset(app, "/assets/uPlot.iife.min.js", "uPlot.iife.min.js");
 */
export async function servePackageAsset(
  app: FastifyInstance,
  route: string,
  name: string,
): Promise<void> {
  const file = PACKAGE_ASSETS[name];
  if (file === undefined || !Object.hasOwn(PACKAGE_ASSETS, name)) {
    throw new TypeError(`not a package asset: ${name}`);
  }
  const body = await readFile(resolvePackageFile(file));
  const type = TYPES[name.split(".").pop() as string] as string;
  app.get(route, { schema: { hide: true } }, async (_request, reply) =>
    reply.type(type).header("cache-control", "no-cache").send(body),
  );
}
