// Steady traffic for the fault tests: a few workers that each, in turn, sign a new user in and
// read a known user's access token, against whichever instances are up. Every answer is kept
// with the phase of the test it came in, so a test can say what each phase must have answered.
import type { Emulator } from "@steward/emulator";
import { sdkSignIn } from "../../emulator/helpers.js";
import { postCode } from "../../server/helpers.js";

export interface Answer {
  readonly kind: "sign-in" | "token";
  /** Which instance answered (its base URL). */
  readonly target: string;
  /** The phase the test was in when the request was sent. */
  readonly phase: string;
  /** 0 when no answer came (connection refused or cut). */
  readonly status: number;
  /** The error envelope's code, if any. */
  readonly code: string | undefined;
}

export interface Load {
  /** Set by the test; stamped on every request sent from then on. */
  phase: string;
  /** Where requests go; the test may change it (e.g. drop a killed instance). */
  targets: string[];
  readonly answers: Answer[];
  /** Subs whose sign-in was answered 2xx: acknowledged, so they must be stored. */
  readonly acknowledged: string[];
  /** Lets the workers finish their current request and stop. */
  stop(): Promise<void>;
}

export function startLoad(options: {
  google: Emulator;
  targets: string[];
  /** Users whose tokens are read (more join as sign-ins are acknowledged). */
  users: string[];
  adminToken: string;
  workers?: number;
  /** Name prefix of the users signed in, unique per test. */
  prefix: string;
}): Load {
  const users = [...options.users];
  let running = true;
  let signIns = 0;
  const load: Load = {
    phase: "start",
    targets: [...options.targets],
    answers: [],
    acknowledged: [],
    stop: async () => {
      running = false;
      await done;
    },
  };
  const record = (kind: Answer["kind"], target: string, phase: string, result: Result) =>
    load.answers.push({ kind, target, phase, ...result });

  const worker = async (id: number) => {
    for (let turn = 0; running; turn++) {
      const target = load.targets[(id + turn) % load.targets.length] as string;
      const phase = load.phase;
      if (turn % 2 === 0) {
        const { serverAuthCode, sub } = await sdkSignIn(options.google, {
          email: `${options.prefix}-${signIns++}@example.com`,
        });
        const result = await answerOf(() => postCode(target, { code: serverAuthCode }));
        if (result.status >= 200 && result.status < 300) {
          load.acknowledged.push(sub);
          users.push(sub);
        }
        record("sign-in", target, phase, result);
      } else {
        const sub = users[(id * 7 + turn) % users.length] as string;
        const result = await answerOf(async () => {
          const response = await fetch(`${target}/v1/users/${sub}/access-token`, {
            headers: { authorization: `Bearer ${options.adminToken}` },
          });
          return { status: response.status, body: await response.json().catch(() => undefined) };
        });
        record("token", target, phase, result);
      }
    }
  };
  const done = Promise.all(
    Array.from({ length: options.workers ?? 4 }, (_, id) => worker(id)),
  ).then(() => undefined);
  return load;
}

interface Result {
  status: number;
  code: string | undefined;
}

async function answerOf(send: () => Promise<{ status: number; body: any }>): Promise<Result> {
  try {
    const { status, body } = await send();
    return { status, code: body?.error?.code };
  } catch {
    return { status: 0, code: undefined };
  }
}

/** The answers of `phase` (optionally only `target`'s) that were not 2xx, as `status code`. */
export function failuresOf(load: Load, phase: string, target?: string): string[] {
  return load.answers
    .filter(
      (answer) => answer.phase === phase && (target === undefined || answer.target === target),
    )
    .filter((answer) => answer.status < 200 || answer.status >= 300)
    .map((answer) => `${answer.kind} ${answer.status} ${answer.code ?? ""}`.trim());
}

/** Polls `check` every 100 ms until it holds; throws after `timeoutMs` (generous, not a bound). */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
