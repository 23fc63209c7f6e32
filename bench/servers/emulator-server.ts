// The emulator alone in its own process, so a benchmark can pin it to one core.
// Prints `{"url", "clientId", "clientSecret"}` on one line once it listens; SIGTERM stops it.
// With CPU_PROFILE_PATH set, SIGUSR2 starts a V8 CPU profile and the next SIGUSR2 writes it
// there, so a profile covers exactly the measured window (not start-up, set-up or warm-up).
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { startEmulator } from "@steward/emulator";

const emulator = await startEmulator({ port: 0, host: "127.0.0.1" });
process.stdout.write(
  `${JSON.stringify({
    url: emulator.url,
    clientId: emulator.defaultClient.clientId,
    clientSecret: emulator.defaultClient.clientSecret,
  })}\n`,
);

let profiling: Promise<void> = Promise.resolve();
const profilePath = process.env.CPU_PROFILE_PATH;
if (profilePath) {
  const session = new Session();
  session.connect();
  let running = false;
  const toggle = async () => {
    if (!running) {
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    } else {
      const { profile } = await session.post("Profiler.stop");
      await writeFile(profilePath, JSON.stringify(profile));
    }
    running = !running;
  };
  process.on("SIGUSR2", () => {
    profiling = profiling.then(toggle);
  });
}

process.once("SIGTERM", () => {
  // Finish writing a profile first.
  void profiling.then(() => emulator.close()).finally(() => process.exit(0));
});
