// The API's OpenAPI document (GET /docs/json) is the committed snapshot, ordering aside: moving a
// route between files or plugins must not change what the API says it takes and answers. The
// demo's routes are the demo app's (mounted in emulator mode), not the API's, and are left out.
// After a deliberate change of the API, write the snapshot again and format it:
//   UPDATE_OPENAPI_SNAPSHOT=1 npx vitest run test/server/openapi-document.test.ts
//   npx biome format --write test/server/openapi.snapshot.json
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestService, type TestService } from "./helpers.js";

const SNAPSHOT = new URL("./openapi.snapshot.json", import.meta.url);
let steward: TestService;
let document: { paths: Record<string, Record<string, any>> };

beforeAll(async () => {
  steward = await startTestService();
  document = await (await fetch(`${steward.url}/docs/json`)).json();
}, 120_000);
afterAll(() => steward?.close());

/** Object keys in order at every depth; arrays keep theirs (an enum's order is content). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

it("is the committed snapshot, but for ordering", async () => {
  const paths = Object.fromEntries(
    Object.entries(document.paths).filter(([path]) => !path.startsWith("/demo/")),
  );
  const api = sortedKeys({ ...document, paths });
  if (process.env.UPDATE_OPENAPI_SNAPSHOT) writeFileSync(SNAPSHOT, JSON.stringify(api));
  expect(api).toEqual(JSON.parse(readFileSync(SNAPSHOT, "utf8")));
});

it("gives every JSON answer of every operation a schema, so no unlisted field is sent", () => {
  for (const [path, operations] of Object.entries(document.paths)) {
    // The proxy answers what Google answers, byte for byte.
    if (path.includes("}/google/")) continue;
    for (const [method, operation] of Object.entries(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const content = (response as { content?: Record<string, { schema?: unknown }> }).content;
        expect(content, `${method} ${path} ${status}`).toBeDefined();
        for (const media of Object.values(content ?? {})) {
          expect(media.schema, `${method} ${path} ${status}`).toBeDefined();
        }
      }
    }
  }
});
