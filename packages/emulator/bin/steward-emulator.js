#!/usr/bin/env node
// Compiled into dist/ by the repository's `npm install` (or `npm pack`, for a published package).
import { main } from "../dist/cli.js";

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
