import type { FastifyReply, FastifyRequest } from "fastify";
import { type FieldMask, parseFieldMask } from "./fields.js";

/**
 * One query parameter as a string. A repeated parameter yields its first value, an absent one
 * undefined, so handlers never see the `string[]` a querystring parser may produce.
 */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const value = query?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" ? first : undefined;
}

/** The `fields` selector: absent or empty means none; undefined `mask` with `ok: false` = bad. */
export function fieldMaskOf(
  request: FastifyRequest,
): { ok: true; mask: FieldMask | undefined } | { ok: false; fields: string } {
  const fields = queryParam(request, "fields");
  if (fields === undefined || fields.trim() === "") return { ok: true, mask: undefined };
  const mask = parseFieldMask(fields);
  return mask === undefined ? { ok: false, fields } : { ok: true, mask };
}

/**
 * Sends bytes as Google's media servers do, honouring a single `Range: bytes=a-b` (206 with
 * `Content-Range`, or 416 when it cannot be satisfied), which chunked downloaders send.
 */
export function sendMedia(
  request: FastifyRequest,
  reply: FastifyReply,
  content: Buffer,
  mimeType: string,
): FastifyReply {
  reply.header("accept-ranges", "bytes").type(mimeType);
  const range = request.headers.range;
  if (range === undefined) return reply.send(content);
  const bounds = parseByteRange(range, content.length);
  if (bounds === undefined) return reply.send(content);
  if (bounds === "unsatisfiable") {
    return reply
      .code(416)
      .header("content-range", `bytes */${content.length}`)
      .type("application/json; charset=UTF-8")
      .send({ error: { code: 416, message: "Request range not satisfiable" } });
  }
  const [start, end] = bounds;
  return reply
    .code(206)
    .header("content-range", `bytes ${start}-${end}/${content.length}`)
    .send(content.subarray(start, end + 1));
}

/** `[start, end]` inclusive; undefined when the header is not one byte range (ignore it). */
function parseByteRange(
  header: string,
  size: number,
): [number, number] | "unsatisfiable" | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return undefined;
  const [, from = "", to = ""] = match;
  if (from === "" && to === "") return undefined;
  if (from === "") {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(from);
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return [start, end];
}
