/**
 * Google's partial-response selector, the `fields` query parameter: `a,b/c,items(id,name)`, with
 * `*` for everything at a level. Parsed into a tree of wanted keys, then applied to a response.
 */

/** Wanted keys; `true` keeps the whole value under that key. */
export type FieldMask = Map<string, FieldMask | true>;

/** The mask for a `fields` value, or undefined when its syntax is wrong. */
export function parseFieldMask(text: string): FieldMask | undefined {
  const parser = { text, at: 0 };
  const mask = parseList(parser);
  skipSpaces(parser);
  return mask !== undefined && parser.at === text.length ? mask : undefined;
}

/** Keeps only what `mask` selects; arrays are filtered element by element. */
export function applyFieldMask(value: unknown, mask: FieldMask): unknown {
  if (Array.isArray(value)) return value.map((item) => applyFieldMask(item, mask));
  if (value === null || typeof value !== "object") return value;
  if (mask.get("*") === true) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const wanted = mask.get(key) ?? mask.get("*");
    if (wanted === undefined) continue;
    out[key] = wanted === true ? item : applyFieldMask(item, wanted);
  }
  return out;
}

interface Parser {
  readonly text: string;
  at: number;
}

// list := item ("," item)* ; item := name ("/" name)* ["(" list ")"]
function parseList(parser: Parser): FieldMask | undefined {
  const mask: FieldMask = new Map();
  for (;;) {
    const path: string[] = [];
    for (;;) {
      skipSpaces(parser);
      const name = /^(?:\*|[A-Za-z0-9_$.-]+)/.exec(parser.text.slice(parser.at))?.[0];
      if (name === undefined) return undefined;
      path.push(name);
      parser.at += name.length;
      skipSpaces(parser);
      if (parser.text[parser.at] !== "/") break;
      parser.at += 1;
    }
    let leaf: FieldMask | true = true;
    if (parser.text[parser.at] === "(") {
      parser.at += 1;
      const inner = parseList(parser);
      skipSpaces(parser);
      if (inner === undefined || parser.text[parser.at] !== ")") return undefined;
      parser.at += 1;
      leaf = inner;
      skipSpaces(parser);
    }
    merge(mask, path, leaf);
    if (parser.text[parser.at] !== ",") return mask;
    parser.at += 1;
  }
}

function merge(mask: FieldMask, path: readonly string[], leaf: FieldMask | true): void {
  const [head, ...rest] = path as [string, ...string[]];
  const value: FieldMask | true = rest.length === 0 ? leaf : nested(rest, leaf);
  const existing = mask.get(head);
  if (existing === true || value === true) {
    mask.set(head, true);
  } else if (existing === undefined) {
    mask.set(head, value);
  } else {
    for (const [key, sub] of value) merge(existing, [key], sub);
  }
}

function nested(path: readonly string[], leaf: FieldMask | true): FieldMask {
  const mask: FieldMask = new Map();
  merge(mask, path, leaf);
  return mask;
}

function skipSpaces(parser: Parser): void {
  while (parser.text[parser.at] === " ") parser.at += 1;
}
