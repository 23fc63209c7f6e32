// A command whose stop fails, as `steward emulator` or `serve` does when closing fails.
import { stopOnSignal } from "../../../src/cli/emulator.js";

stopOnSignal(() => Promise.reject(new Error("the listener would not close")));
setInterval(() => undefined, 60_000);
console.log("running");
