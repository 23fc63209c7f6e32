import { readFile } from "node:fs/promises";
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
