/**
 * A small, strict parser for `multipart/related` bodies (RFC 2046, RFC 2387), as Google's upload
 * endpoints receive them from client libraries. Node's googleapis client writes CRLF line breaks;
 * google-api-python-client writes bare LF (Python's email generator) and a quoted boundary full of
 * `=`. Both are accepted: the line break that follows the first delimiter fixes the style for the
 * whole body, so a payload ending in `\r` is never cut short in an LF-only body.
 */

/** One body part: lower-cased header names, and its bytes after any transfer decoding. */
export interface MultipartPart {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type MultipartResult =
  | { readonly ok: true; readonly parts: readonly MultipartPart[] }
  | { readonly ok: false; readonly reason: string };

/** A body with more parts than this is refused (uploads carry two, a batch at most 100). */
export const MAX_PARTS = 100;

// RFC 2046 §5.1.1: 1 to 70 characters from this set, not ending in a space.
const BOUNDARY_SHAPE = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * The boundary of a `multipart/related` (or the `expected` multipart type, such as a batch's
 * `multipart/mixed`) Content-Type header, unquoted; undefined when the type is another one or
 * the boundary is missing or malformed.
 *
 * @example boundaryOf('multipart/related; boundary="===1=="') // "===1=="
 */
export function boundaryOf(
  contentType: string | undefined,
  expected = "multipart/related",
): string | undefined {
  if (contentType === undefined) return undefined;
  const [mediaType, ...params] = splitParams(contentType);
  if (mediaType?.toLowerCase() !== expected) return undefined;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "boundary") continue;
    const boundary = unquote(param.slice(eq + 1).trim());
    return boundary !== undefined && BOUNDARY_SHAPE.test(boundary) ? boundary : undefined;
  }
  return undefined;
}

/**
 * Splits a `multipart/related` body into its parts. Preamble and epilogue are ignored; a part
 * must have a header block (possibly empty) ended by a blank line; `base64` transfer encoding is
 * decoded, `binary`, `8bit` and `7bit` are taken as they are, anything else is refused.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartResult {
  if (!BOUNDARY_SHAPE.test(boundary)) return fail("invalid boundary");
  const dash = Buffer.from(`--${boundary}`, "latin1");
  const first = findDelimiter(body, dash, 0, undefined);
  if (first === undefined) return fail("no opening delimiter");
  if (first.closing) return fail("no parts");
  const eol = first.eol;
  const delimiter = Buffer.concat([eol, dash]);
  const parts: MultipartPart[] = [];
  let start = first.next;
  for (;;) {
    // Search from just before `start`, so an empty part (delimiter right after delimiter) is seen.
    const found = findDelimiter(body, delimiter, start - eol.length, eol);
    if (found === undefined) return fail("no closing delimiter");
    const part = parsePart(body.subarray(start, found.at), eol);
    if (!part.ok) return part;
    parts.push(part.part);
    if (parts.length > MAX_PARTS) return fail("too many parts");
    if (found.closing) return { ok: true, parts };
    start = found.next;
  }
}

interface Delimiter {
  /** Where the delimiter (with its leading line break, if any) starts. */
  at: number;
  /** Where the next part starts (after the delimiter line). */
  next: number;
  closing: boolean;
  eol: Buffer;
}

const CRLF = Buffer.from("\r\n");
const LF = Buffer.from("\n");

/**
 * The next full delimiter line at or after `from`: `needle`, then `--` (closing) or optional
 * spaces and a line break. With `eol` undefined this is the opening delimiter, which must start
 * the body or a line, and whose line break decides the body's style.
 */
function findDelimiter(
  body: Buffer,
  needle: Buffer,
  from: number,
  eol: Buffer | undefined,
): Delimiter | undefined {
  let index = body.indexOf(needle, Math.max(0, from));
  while (index >= 0) {
    const atLineStart = eol !== undefined || index === 0 || body[index - 1] === 0x0a;
    let cursor = index + needle.length;
    if (atLineStart && body[cursor] === 0x2d && body[cursor + 1] === 0x2d) {
      return { at: index, next: body.length, closing: true, eol: eol ?? CRLF };
    }
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor += 1;
    const lineBreak = eol ?? (body[cursor] === 0x0d ? CRLF : LF);
    if (atLineStart && startsWith(body, cursor, lineBreak)) {
      return { at: index, next: cursor + lineBreak.length, closing: false, eol: lineBreak };
    }
    index = body.indexOf(needle, index + 1);
  }
  return undefined;
}

function parsePart(
  raw: Buffer,
  eol: Buffer,
): { ok: true; part: MultipartPart } | { ok: false; reason: string } {
  let headerEnd: number;
  let bodyStart: number;
  if (startsWith(raw, 0, eol)) {
    headerEnd = 0;
    bodyStart = eol.length;
  } else {
    const blank = raw.indexOf(Buffer.concat([eol, eol]));
    if (blank < 0) return fail("part without a blank line after its headers");
    headerEnd = blank;
    bodyStart = blank + 2 * eol.length;
  }
  const headers = parseHeaders(raw.subarray(0, headerEnd).toString("latin1"), eol.toString());
  if (headers === undefined) return fail("malformed part header");
  const encoding = (headers["content-transfer-encoding"] ?? "binary").toLowerCase();
  let body = raw.subarray(bodyStart);
  if (encoding === "base64") {
    const text = body.toString("latin1").replace(/[\r\n\t ]/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
      return fail("invalid base64 part");
    }
    body = Buffer.from(text, "base64");
  } else if (!["binary", "8bit", "7bit"].includes(encoding)) {
    return fail(`unsupported transfer encoding ${encoding}`);
  }
  return { ok: true, part: { headers, body: Buffer.from(body) } };
}

/** RFC 5322 header fields, with folded lines joined; undefined when a line is not a field. */
export function parseHeaders(text: string, eol: string): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  if (text === "") return headers;
  let last: string | undefined;
  for (const line of text.split(eol)) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && last !== undefined) {
      headers[last] = `${headers[last]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "";
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) return undefined;
    headers[name] = line.slice(colon + 1).trim();
    last = name;
  }
  return headers;
}

/** `type/subtype; a=1; b="x;y"` split at the semicolons outside quotes. */
function splitParams(header: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < header.length; i += 1) {
    const char = header[i] as string;
    if (quoted && char === "\\") {
      current += char + (header[i + 1] ?? "");
      i += 1;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === ";" && !quoted) {
      out.push(current.trim());
      current = "";
    } else {
      current += char;
    }
  }
  out.push(current.trim());
  return out;
}

function unquote(value: string): string | undefined {
  if (!value.startsWith('"')) return value;
  if (value.length < 2 || !value.endsWith('"')) return undefined;
  return value.slice(1, -1).replace(/\\(.)/g, "$1");
}

function startsWith(buffer: Buffer, at: number, prefix: Buffer): boolean {
  return (
    at + prefix.length <= buffer.length &&
    buffer.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0
  );
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
