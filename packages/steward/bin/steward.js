#!/usr/bin/env node
// The CLI is compiled into dist/ by `npm install` (the `prepare` script).
import { main } from "../dist/cli/main.js";

main(process.argv).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
