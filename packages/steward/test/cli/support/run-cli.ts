// Runs the `steward` CLI from source (the bin runs the compiled copy of the same code).
import { main } from "../../../src/cli/main.js";

main(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
