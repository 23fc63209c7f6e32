import { STATUS_CODES } from "node:http";
import { parseHeaders } from "./multipart.js";

/** One call of a batch: an `application/http` part's request, as Google's batch endpoint reads it. */
export interface BatchCall {
  readonly method: string;
  /** Path and query, at the emulator's root (an absolute URL's host is dropped). */
  readonly url: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

const REQUEST_LINE = /^([A-Z]{3,7}) (\S+)(?: HTTP\/1\.[01])?$/;

/**
 * Parses an `application/http` request: a request line, header fields, a blank line and an
 * optional body. Lines end in CRLF or, as google-api-python-client writes them, bare LF; the
 * request line's ending sets the style. A `Content-Length` shorter than what follows cuts the body.
 */
export function parseHttpRequest(
  bytes: Buffer,
): { ok: true; call: BatchCall } | { ok: false; reason: string } {
  const firstBreak = bytes.indexOf(0x0a);
  if (firstBreak < 0) return { ok: false, reason: "no request line" };
  const crlf = firstBreak > 0 && bytes[firstBreak - 1] === 0x0d;
  const eol = crlf ? "\r\n" : "\n";
  const line = bytes.subarray(0, crlf ? firstBreak - 1 : firstBreak).toString("latin1");
  const match = REQUEST_LINE.exec(line);
  if (match === null) return { ok: false, reason: "malformed request line" };
  const url = pathOf(match[2] as string);
  if (url === undefined) return { ok: false, reason: "malformed request URL" };

  const rest = bytes.subarray(firstBreak + 1);
  let headerText: string;
  let body: Buffer;
  if (rest.subarray(0, eol.length).toString("latin1") === eol) {
    headerText = "";
    body = rest.subarray(eol.length);
  } else {
    const blank = rest.indexOf(`${eol}${eol}`, 0, "latin1");
    const headerEnd = blank < 0 ? rest.length : blank;
    headerText = rest.subarray(0, headerEnd).toString("latin1");
    if (headerText.endsWith(eol)) headerText = headerText.slice(0, -eol.length);
    body = blank < 0 ? Buffer.alloc(0) : rest.subarray(blank + 2 * eol.length);
  }
  const headers = parseHeaders(headerText, eol);
  if (headers === undefined) return { ok: false, reason: "malformed header" };
  const declared = headers["content-length"];
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) < body.length) {
    body = body.subarray(0, Number(declared));
  }
  return { ok: true, call: { method: match[1] as string, url, headers, body: Buffer.from(body) } };
}

/** `/path?query` of a request target, from an origin-form or absolute-form target. */
function pathOf(target: string): string | undefined {
  if (target.startsWith("/")) return target;
  try {
    const url = new URL(target);
    return url.protocol === "http:" || url.protocol === "https:"
      ? `${url.pathname}${url.search}`
      : undefined;
  } catch {
    return undefined;
  }
}

/** Headers of an inner response that describe the connection, not the call. */
const CONNECTION_HEADERS = new Set([
  "connection",
  "content-length",
  "date",
  "keep-alive",
  "transfer-encoding",
]);

/**
 * One part of a batch response: `Content-Type: application/http`, the call's `Content-ID` as
 * `response-<id>` (inside the angle brackets it came in), then the whole HTTP/1.1 response.
 */
export function responsePart(
  contentId: string | undefined,
  status: number,
  headers: Readonly<Record<string, string | string[] | number | undefined>>,
  body: Buffer,
): Buffer {
  const lines = ["Content-Type: application/http"];
  if (contentId !== undefined) lines.push(`Content-ID: ${responseContentId(contentId)}`);
  lines.push("", `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}`);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || CONNECTION_HEADERS.has(name.toLowerCase())) continue;
    lines.push(`${name}: ${Array.isArray(value) ? value.join(", ") : String(value)}`);
  }
  lines.push(`Content-Length: ${body.length}`, "", "");
  return Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]);
}

function responseContentId(contentId: string): string {
  const bracketed = /^<(.*)>$/.exec(contentId);
  return bracketed ? `<response-${bracketed[1]}>` : `response-${contentId}`;
}
