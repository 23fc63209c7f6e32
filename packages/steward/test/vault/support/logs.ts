import { pino } from "pino";

/** A real pino logger whose JSON lines are kept for the test to search. */
export function capturedLogger(): { logger: pino.Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(line) });
  return { logger, lines, text: () => lines.join("") };
}
