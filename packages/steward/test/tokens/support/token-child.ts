// A second Steward process for the cross-instance test: it opens the same PostgreSQL and the
// same (external) emulator as the test's service, then asks for one user's token many times at
// once, and prints what it got.
import pino from "pino";
import { loadConfig } from "../../../src/config/load.js";
import { startService } from "../../../src/server/service.js";

const [sub, calls] = [process.env.TEST_SUB as string, Number(process.env.TEST_CALLS)];
const service = await startService(loadConfig({ ...process.env, STEWARD_PORT: "0" }), {
  emulatorPort: 0,
  logger: pino({ level: "silent" }),
});
await new Promise((resolve) => process.stdin.once("data", resolve)); // start together
process.stdin.destroy();
const tokens = await Promise.all(
  Array.from({ length: calls }, () => service.tokens.accessToken(sub)),
);
process.stdout.write(
  `${JSON.stringify({ distinct: [...new Set(tokens.map((token) => token.token))] })}\n`,
);
await service.close();
