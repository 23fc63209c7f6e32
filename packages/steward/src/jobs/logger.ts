import pino, { type Logger } from "pino";
import type { VaultLogger } from "../shared/index.js";

const LEVELS: Readonly<Record<number, keyof VaultLogger>> = {
  10: "debug",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "error",
};

/**
 * A pino logger for jobs (whose handlers get pino children): the given one when it is pino,
 * else one that hands each entry to the given logger's method for its level.
 */
export function jobsLogger(logger: VaultLogger): Logger {
  if (isPino(logger)) return logger;
  return pino(
    { level: "debug" },
    {
      write(line: string) {
        const { level, msg, time: _time, pid: _pid, hostname: _host, ...fields } = JSON.parse(line);
        logger[LEVELS[level as number] ?? "info"](fields, String(msg ?? ""));
      },
    },
  );
}

function isPino(logger: VaultLogger): logger is Logger {
  const candidate = logger as Partial<Logger>;
  return typeof candidate.child === "function" && typeof candidate.level === "string";
}
