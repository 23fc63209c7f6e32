import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";

/** `web/` beside `src/` and `dist/`: the same relative path from either. */
const WEB_DIR = new URL("../web/", import.meta.url);

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

/**
 * Serves one file of the demo's `web/` at `route`, read once at start-up from a fixed name: no
 * path from a request reaches the file system. `no-cache` makes browsers revalidate, so a
 * restarted service never runs a stale script against a newer API.
 */
export async function serveWebFile(
  app: FastifyInstance,
  route: string,
  file: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  if (!/^[a-z-]+\.(html|js)$/.test(file)) throw new TypeError(`not a web file: ${file}`);
  const body = await readFile(new URL(file, WEB_DIR));
  const type = TYPES[file.split(".").pop() as string] as string;
  app.get(route, { schema: { hide: true } }, async (_request, reply) => {
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    return reply.type(type).header("cache-control", "no-cache").send(body);
  });
}
