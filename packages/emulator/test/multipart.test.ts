import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundaryOf, parseMultipart } from "../src/multipart.js";

function parts(result: ReturnType<typeof parseMultipart>) {
  if (!result.ok) throw new Error(`parse failed: ${result.reason}`);
  return result.parts.map((part) => ({
    headers: part.headers,
    body: part.body.toString("latin1"),
  }));
}

describe("boundaryOf", () => {
  it("reads a plain or quoted boundary of multipart/related, whatever the case", () => {
    expect(boundaryOf("multipart/related; boundary=abc-123")).toBe("abc-123");
    expect(boundaryOf('Multipart/Related; BOUNDARY="===============52082==" ')).toBe(
      "===============52082==",
    );
    expect(boundaryOf('multipart/related; type="a;b"; boundary="x y"')).toBe("x y");
  });

  it("refuses other types, a missing boundary and malformed ones", () => {
    expect(boundaryOf(undefined)).toBeUndefined();
    expect(boundaryOf("multipart/form-data; boundary=abc")).toBeUndefined();
    expect(boundaryOf("multipart/related")).toBeUndefined();
    expect(boundaryOf("multipart/related; boundary=")).toBeUndefined();
    expect(boundaryOf('multipart/related; boundary="unterminated')).toBeUndefined();
    expect(boundaryOf(`multipart/related; boundary=${"a".repeat(71)}`)).toBeUndefined();
    expect(boundaryOf('multipart/related; boundary="ends with space "')).toBeUndefined();
  });
});

describe("parseMultipart", () => {
  it("parses what @googleapis/drive sends (CRLF, no line break after the close)", () => {
    const body = Buffer.from(
      '--b1\r\ncontent-type: application/json\r\n\r\n{"name":"a"}\r\n' +
        "--b1\r\ncontent-type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--b1--",
      "latin1",
    );
    expect(parts(parseMultipart(body, "b1"))).toEqual([
      { headers: { "content-type": "application/json" }, body: '{"name":"a"}' },
      { headers: { "content-type": "image/png" }, body: "\x89PNG\r\n\x1a\n" },
    ]);
  });

  it("parses what google-api-python-client sends (bare LF, MIME headers, payload ending in CR)", () => {
    const boundary = "===============5208232709209888821==";
    const body = Buffer.from(
      `--${boundary}\nContent-Type: application/json\nMIME-Version: 1.0\n\n{"name": "a"}\n` +
        `--${boundary}\nContent-Type: application/octet-stream\nMIME-Version: 1.0\n` +
        `Content-Transfer-Encoding: binary\n\n\x00\x01hello\r\n--x\xff\r\n--${boundary}--\n`,
      "latin1",
    );
    expect(parts(parseMultipart(body, boundary))).toEqual([
      {
        headers: { "content-type": "application/json", "mime-version": "1.0" },
        body: '{"name": "a"}',
      },
      {
        headers: {
          "content-type": "application/octet-stream",
          "mime-version": "1.0",
          "content-transfer-encoding": "binary",
        },
        body: "\x00\x01hello\r\n--x\xff\r",
      },
    ]);
  });

  it("skips preamble and epilogue, joins folded headers, decodes base64", () => {
    const body = Buffer.from(
      "preamble line\r\n--b\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n" +
        "Content-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--b--\r\nepilogue",
    );
    expect(parts(parseMultipart(body, "b"))).toEqual([
      {
        headers: {
          "content-type": "text/plain; charset=utf-8",
          "content-transfer-encoding": "base64",
        },
        body: "hello",
      },
    ]);
  });

  it("does not take a longer look-alike line for the delimiter", () => {
    const body = Buffer.from("--b\r\n\r\nx\r\n--bb\r\ny\r\n--b --\r\nz\r\n--b--");
    expect(parts(parseMultipart(body, "b"))).toEqual([
      { headers: {}, body: "x\r\n--bb\r\ny\r\n--b --\r\nz" },
    ]);
  });

  it.each([
    ["no opening delimiter", "hello", "no opening delimiter"],
    ["only a close", "--b--", "no parts"],
    ["no closing delimiter", "--b\r\n\r\nbody", "no closing delimiter"],
    ["a part without its blank line", "--b\r\ncontent-type: a/b\r\n--b--", "part without"],
    ["an empty part", "--b\r\n--b--", "part without"],
    [
      "a header that is not a field",
      "--b\r\nnot a header\r\n\r\nx\r\n--b--",
      "malformed part header",
    ],
    [
      "an unknown transfer encoding",
      "--b\r\ncontent-transfer-encoding: quoted-printable\r\n\r\nx\r\n--b--",
      "unsupported transfer encoding",
    ],
    [
      "bad base64",
      "--b\r\ncontent-transfer-encoding: base64\r\n\r\n@@@\r\n--b--",
      "invalid base64",
    ],
  ])("refuses %s", (_name, text, reason) => {
    const result = parseMultipart(Buffer.from(text), "b");
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toContain(reason);
  });

  const boundaryChar = fc.constantFrom(
    ..."0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?",
  );
  const boundary = fc.array(boundaryChar, { minLength: 1, maxLength: 70 }).map((c) => c.join(""));
  const part = fc.record({
    type: fc.constantFrom("application/json", "image/png", "application/octet-stream"),
    body: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  });

  it("round-trips any parts, either line-break style, with any boundary (property)", () => {
    fc.assert(
      fc.property(
        boundary,
        fc.array(part, { minLength: 1, maxLength: 5 }),
        fc.constantFrom("\r\n", "\n"),
        fc.boolean(),
        (b, input, eol, trailingBreak) => {
          const delimiter = Buffer.from(`${eol}--${b}`, "latin1");
          fc.pre(
            input.every((p) => !Buffer.concat([Buffer.from(eol), p.body]).includes(delimiter)),
          );
          const chunks: Buffer[] = [];
          for (const p of input) {
            chunks.push(Buffer.from(`--${b}${eol}Content-Type: ${p.type}${eol}${eol}`, "latin1"));
            chunks.push(p.body, Buffer.from(eol));
          }
          chunks.push(Buffer.from(`--${b}--${trailingBreak ? eol : ""}`, "latin1"));
          const result = parseMultipart(Buffer.concat(chunks), b);
          expect(result.ok).toBe(true);
          const got = result.ok ? result.parts : [];
          expect(got.map((p) => p.headers["content-type"])).toEqual(input.map((p) => p.type));
          expect(got.map((p) => p.body.toString("hex"))).toEqual(
            input.map((p) => p.body.toString("hex")),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), boundary, (bytes, b) => {
        const result = parseMultipart(Buffer.from(bytes), b);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
});
