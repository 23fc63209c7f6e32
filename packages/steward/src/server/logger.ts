import {
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Bindings, ChildLoggerOptions } from "pino";

/**
 * Pino options for the service: JSON lines, with every header and field that can carry a token,
 * code or secret replaced by "[redacted]" before it is written.
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  "res.headers['set-cookie']",
  // A sign-in code, wherever a body is logged; not `*.code`, which would blank `err.code`.
  "body.code",
  "*.body.code",
  "*.serverAuthCode",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.idToken",
  "*.clientSecret",
  "*.access_token",
  "*.refresh_token",
  "*.id_token",
  "*.client_secret",
  // An ID token presented at /oauth2/token (RFC 8693 token exchange).
  "*.subject_token",
];

/** A query parameter's name worth keeping in a log line; anything else is redacted whole. */
const QUERY_KEY = /^[A-Za-z0-9_.[\]-]{1,64}$/;

/**
 * A request URL as it may be logged: the path, and of the query only its keys, every value
 * "[redacted]". Tokens and codes travel in query strings (tokeninfo's `access_token`, the
 * sign-in callback's `code`), on any route, and a route cannot know what its caller put there.
 *
 * @example redactedUrl("/tokeninfo?access_token=ya29.x") // "/tokeninfo?access_token=[redacted]"
 */
export function redactedUrl(url: string): string {
  const queryAt = url.indexOf("?");
  if (queryAt === -1) return url;
  const query = url
    .slice(queryAt + 1)
    .split("&")
    .map((part) => {
      const equals = part.indexOf("=");
      // A part without `=` is all value (`?ya29.token`); so is a key that does not look like one.
      const key = equals === -1 ? undefined : part.slice(0, equals);
      return key !== undefined && QUERY_KEY.test(key) ? `${key}=[redacted]` : "[redacted]";
    });
  return `${url.slice(0, queryAt)}?${query.join("&")}`;
}

/**
 * Pino serializers for the service's request lines: Fastify's own `req`, with the URL's query
 * values redacted (see {@link redactedUrl}).
 */
export const REQUEST_SERIALIZERS = {
  req: (request: FastifyRequest) => ({
    method: request.method,
    url: typeof request.url === "string" ? redactedUrl(request.url) : undefined,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }),
};

const LEVEL_VALUES: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};
type LevelName = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * Fastify's `childLoggerFactory`: a request's logger that becomes a child of `parent` (bound
 * to the request id) only when it writes a line. Most requests write none (the hot internal
 * routes log at warn), and building a pino child, whose bindings pass through the redaction,
 * cost about 5% of such a request (bench/tokens.bench.ts, part b).
 */
export function requestLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new RequestLogger(parent, bindings, options);
}

class RequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.write("error", args);
  }
  warn(...args: unknown[]): void {
    this.write("warn", args);
  }
  info(...args: unknown[]): void {
    this.write("info", args);
  }
  debug(...args: unknown[]): void {
    this.write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.write("trace", args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  private write(level: LevelName, args: unknown[]): void {
    if (!writes(this, level)) return;
    (this.real()[level] as (...line: unknown[]) => void)(...args);
  }
}

/**
 * Fastify's `incoming request` and `request completed` lines, built only where they are
 * written: on a route that logs at `warn` (the access-token route, the hot path of backends),
 * making them for the logger to drop was work done on every request. A failed response is
 * reported as before.
 */
export class RequestLines extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (writes(request.log, "info")) super.incomingRequest(request, reply);
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error || writes(reply.log, "info")) super.requestCompleted(error, request, reply);
  }
}

/** Whether a line at `level` passes the logger's level. */
function writes(logger: FastifyBaseLogger, level: LevelName): boolean {
  // An unknown (custom) level is let through: pino decides.
  return (LEVEL_VALUES[level] as number) >= (LEVEL_VALUES[logger.level] ?? 0);
}
