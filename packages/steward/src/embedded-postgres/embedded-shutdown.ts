import { readFileSync, unlinkSync } from "node:fs";
import { constants } from "node:os";

/**
 * What stops embedded servers when the process ends: signals (for handles that asked) and the
 * process's exit. Kept apart from start-up so the policy reads in one place.
 */

interface Stoppable {
  stop(): Promise<void>;
}

/** A server to tell to stop at exit, and the lock file to remove. */
export interface AtExit {
  readonly lockPath: string;
  readonly server: { signalStop(): void };
}

const stopOnSignal = new Set<Stoppable>();
const cleanUpAtExit = new Set<AtExit>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * On SIGINT, SIGTERM or SIGHUP, stops every watched handle, then exits with 128 + the signal's
 * number.
 */
export function watchSignals(handle: Stoppable): void {
  if (stopOnSignal.size === 0) {
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  stopOnSignal.add(handle);
}

/** Stops watching `handle`; the listeners go when the last handle does. */
export function unwatchSignals(handle: Stoppable): void {
  if (stopOnSignal.delete(handle) && stopOnSignal.size === 0) {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  for (const other of SIGNALS) process.removeListener(other, onSignal);
  const handles = [...stopOnSignal];
  Promise.allSettled(handles.map((handle) => handle.stop())).finally(() => {
    process.exit(128 + (constants.signals[signal] ?? 0));
  });
}

/** Registers a server to tell to stop at exit (see below). */
export function stopAtExit(entry: AtExit): void {
  cleanUpAtExit.add(entry);
}

export function forgetAtExit(entry: AtExit): void {
  cleanUpAtExit.delete(entry);
}

// A process that exits without stop() (process.exit, an uncaught error) tells its servers to
// stop; only SIGKILL leaves one running, and the next start stops it. A lock file left behind
// would be harmless (its pid is gone) but is removed too.
process.on("exit", () => {
  for (const { lockPath, server } of cleanUpAtExit) {
    server.signalStop();
    try {
      const owner = JSON.parse(readFileSync(lockPath, "utf8")) as { pid?: number };
      if (owner.pid === process.pid) unlinkSync(lockPath);
    } catch {
      // nothing to tidy
    }
  }
});
