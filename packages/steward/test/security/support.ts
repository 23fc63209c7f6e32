import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { type Kysely, sql } from "kysely";
import { type ApiKeyScope, ApiKeys } from "../../src/api-keys/index.js";
import type { TestService } from "../server/helpers.js";

export const ADMIN_TOKEN = "admin-token-for-the-security-suite-0123456789";

/** One request sent exactly as written; see support/raw-request.ts. */
export { type RawAnswer as Answer, rawRequest } from "./support/raw-request.js";

/** API keys of every scope, and revoked ones, made as `steward api-keys create` makes them. */
export async function createKeys(steward: TestService) {
  const apiKeys = new ApiKeys(steward.service.vault.database.db);
  const make = async (name: string, scopes: ApiKeyScope[]) =>
    (await apiKeys.create(name, scopes)).key;
  return {
    apiKeys,
    tokens: await make("tokens", ["tokens:read"]),
    proxy: await make("proxy", ["proxy"]),
    tokensAndProxy: await make("tokens and proxy", ["tokens:read", "proxy"]),
    admin: await make("admin", ["admin"]),
  };
}

/** A method and a route as Fastify registered it, e.g. `GET /v1/users/:sub`. */
export type RouteId = `${string} /${string}`;

/**
 * Every route the app serves, hidden ones included (the OpenAPI document leaves those out), read
 * from Fastify's own route tree.
 */
export function registeredRoutes(app: FastifyInstance): RouteId[] {
  const routes: RouteId[] = [];
  const stack: string[] = [];
  // The radix tree: each line is a node whose text continues its parent's.
  for (const line of app.printRoutes().split("\n")) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] as string).length / 4;
    stack.length = depth;
    stack[depth] = match[2] as string;
    for (const method of (match[3] ?? "").split(",").map((text) => text.trim())) {
      if (method !== "") routes.push(`${method} ${stack.join("")}` as RouteId);
    }
  }
  return routes;
}

/** A loopback server standing for an attacker's host: it counts what reaches it. */
export interface Canary {
  readonly url: string;
  readonly port: number;
  readonly requests: Array<{ method: string; url: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

export async function startCanary(): Promise<Canary> {
  const requests: Canary["requests"] = [];
  const server = createServer((request, response) => {
    requests.push({
      method: request.method ?? "",
      url: request.url ?? "",
      authorization: request.headers.authorization,
    });
    response.end("canary");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Every row of every table of every schema but PostgreSQL's own (Steward's and pg-boss's), as
 * PostgreSQL prints it (bytea as hex, jsonb as JSON): what a dump of the database holds.
 */
export async function everyRowAsText(db: Kysely<any>): Promise<{ tables: string[]; text: string }> {
  const found = await sql<{ schema: string; name: string }>`
    SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE'
      AND table_schema NOT IN ('pg_catalog', 'information_schema')`.execute(db);
  let text = "";
  for (const { schema, name } of found.rows) {
    const rows = await sql<{ row: string }>`
      SELECT t::text AS row FROM ${sql.table(`${schema}.${name}`)} AS t`.execute(db);
    text += `${rows.rows.map((r) => r.row).join("\n")}\n`;
  }
  return { tables: found.rows.map(({ schema, name }) => `${schema}.${name}`), text };
}

/** A secret's spellings that a dump or a disk could show: as is, hex (bytea), base64. */
export function spellings(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [secret, bytes.toString("hex"), bytes.toString("base64")];
}

/** Whether some session waits for an advisory lock (the per-user locks are advisory). */
export async function waitingForAdvisoryLock(steward: TestService): Promise<boolean> {
  const { rows } = await sql<{ waiting: number }>`
    SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`.execute(
    steward.service.vault.database.db,
  );
  return (rows[0]?.waiting ?? 0) > 0;
}
