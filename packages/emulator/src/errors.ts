/**
 * The errors the emulator raises itself, at start-up: what an operator must fix before it can
 * serve. (What it answers its clients are Google's error bodies, in google-errors.ts.)
 *
 * `code` is stable; Steward, which starts an emulator in emulator mode, reports the same codes.
 */
export type EmulatorErrorCode =
  /** The port asked for is taken by another process. */
  | "port_in_use"
  /** `state.json` or a content file beside it, in the data dir, is unreadable or damaged. */
  | "emulator_state_corrupt";

export class EmulatorError extends Error {
  override readonly name = "EmulatorError";
  readonly code: EmulatorErrorCode;

  constructor(code: EmulatorErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}

/** Whether `value` is an {@link EmulatorError}, of `code` when given. */
export function isEmulatorError(value: unknown, code?: EmulatorErrorCode): value is EmulatorError {
  return value instanceof EmulatorError && (code === undefined || value.code === code);
}
