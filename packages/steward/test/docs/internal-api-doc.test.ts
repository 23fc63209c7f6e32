// docs/internal-api.md's shell example runs as pasted: every variable it reads is set before,
// and each key it creates has the scope of the call that uses it.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

const doc = readFileSync("docs/internal-api.md", "utf8");
const block = /## Over HTTP[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)?.[1] as string;

it("sets every variable before using it", () => {
  const set = new Set<string>();
  for (const line of block.trim().split("\n")) {
    const used = [...line.matchAll(/\$([A-Z_]+)\b/g)].map((match) => match[1]);
    for (const name of used) expect(set, `${name} is used before it is set`).toContain(name);
    const assigned = /^([A-Z_]+)=/.exec(line)?.[1];
    if (assigned) set.add(assigned);
  }
  expect(set).toEqual(new Set(["KEY", "PROXY_KEY", "ADMIN_KEY", "SUB"]));
});

it("creates each key with the scope its call needs", () => {
  expect(block).toContain("PROXY_KEY=$(npx steward api-keys create --scope proxy ");
  expect(block).toContain("KEY=$(npx steward api-keys create --scope tokens:read ");
  expect(block).toMatch(/ADMIN_KEY=\$\(npx steward api-keys create --scope admin /);
  // The admin list's shape: {users: [{user: {sub}}]}.
  expect(block).toContain(".users[0].user.sub");
});
