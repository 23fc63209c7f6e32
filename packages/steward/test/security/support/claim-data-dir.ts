// A process that claims a data dir on command, for the stale-lock takeover test. Reads lines on
// stdin: `claim` answers `won` or `lost <pid>` (or `error <message>`); `release` releases a lock
// won and answers `released`.
import { createInterface } from "node:readline";
import { claimDataDir, type DataDirLock } from "../../../src/embedded-postgres/index.js";

const dataDir = process.argv[2] as string;
let held: DataDirLock | undefined;

for await (const line of createInterface({ input: process.stdin })) {
  if (line === "claim") {
    try {
      const claim = await claimDataDir(dataDir, "takeover test");
      if ("owner" in claim) console.log(`lost ${claim.owner.pid}`);
      else {
        held = claim;
        console.log("won");
      }
    } catch (error) {
      console.log(`error ${(error as Error).message}`);
    }
  } else if (line === "release") {
    await held?.release();
    held = undefined;
    console.log("released");
  }
}
