import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..", "..", "..");

/** docs/deploy.md as written. */
export const DEPLOY_DOC = readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");

/** The bodies of the doc's fenced blocks of `language`, in order. */
export function fencedBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, "gm");
  for (const match of markdown.matchAll(fence)) blocks.push(match[1] ?? "");
  return blocks;
}

/** The one fenced block of `language` whose first line is `firstLine`. */
export function blockStartingWith(markdown: string, language: string, firstLine: string): string {
  const found = fencedBlocks(markdown, language).filter((block) => block.startsWith(firstLine));
  if (found.length !== 1) {
    throw new Error(
      `docs/deploy.md: ${found.length} \`\`\`${language} blocks start "${firstLine}"`,
    );
  }
  return found[0] as string;
}

/** The path of a repository file. */
export function repoPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}
