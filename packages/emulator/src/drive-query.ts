import { type DriveFile, FOLDER_MIME_TYPE } from "./drive-store.js";

/**
 * Drive's search language (`files.list` `q`), the subset an application data folder needs:
 * `'ID' in parents`, `name`/`mimeType` with `=`, `!=` and `contains` (a prefix match on names, as
 * Drive does), `trashed`/`starred` with `=`/`!=`, `createdTime`/`modifiedTime` comparisons,
 * `appProperties has { key='k' and value='v' }` (also `properties`), joined by `and`, `or`,
 * `not` and parentheses. Anything else is refused, as Drive refuses it, with 400 "Invalid Value".
 */

export type DriveFilePredicate = (file: DriveFile) => boolean;

/**
 * Compiles `q` into a predicate; undefined when it is not valid. `resolveId` turns an alias in
 * `'appDataFolder' in parents` into the folder's real id.
 *
 * @example compileDriveQuery("name = 'a.json' and 'appDataFolder' in parents", resolve)
 */
export function compileDriveQuery(
  q: string,
  resolveId: (id: string) => string,
): DriveFilePredicate | undefined {
  const tokens = tokenize(q);
  if (tokens === undefined || tokens.length === 0) return undefined;
  const parser: Parser = { tokens, at: 0, resolveId };
  try {
    const predicate = parseOr(parser);
    return parser.at === tokens.length ? predicate : undefined;
  } catch (error) {
    if (error instanceof QuerySyntaxError) return undefined;
    throw error;
  }
}

type Token =
  | { kind: "string"; value: string }
  | { kind: "word"; value: string }
  | { kind: "op"; value: string };

interface Parser {
  readonly tokens: readonly Token[];
  at: number;
  readonly resolveId: (id: string) => string;
}

class QuerySyntaxError extends Error {}

function tokenize(q: string): Token[] | undefined {
  const tokens: Token[] = [];
  let at = 0;
  while (at < q.length) {
    const char = q[at] as string;
    if (/\s/.test(char)) {
      at += 1;
    } else if (char === "'") {
      let value = "";
      at += 1;
      while (at < q.length && q[at] !== "'") {
        if (q[at] === "\\") at += 1;
        if (at >= q.length) return undefined;
        value += q[at];
        at += 1;
      }
      if (at >= q.length) return undefined;
      at += 1;
      tokens.push({ kind: "string", value });
    } else {
      const op = /^(?:!=|<=|>=|=|<|>|\(|\)|\{|\})/.exec(q.slice(at))?.[0];
      const word = op === undefined ? /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(at))?.[0] : undefined;
      if (op !== undefined) tokens.push({ kind: "op", value: op });
      else if (word !== undefined) tokens.push({ kind: "word", value: word });
      else return undefined;
      at += (op ?? word ?? "").length;
    }
  }
  return tokens;
}

function parseOr(parser: Parser): DriveFilePredicate {
  const terms = [parseAnd(parser)];
  while (isWord(peek(parser), "or")) {
    parser.at += 1;
    terms.push(parseAnd(parser));
  }
  return terms.length === 1 ? (terms[0] as DriveFilePredicate) : (f) => terms.some((t) => t(f));
}

function parseAnd(parser: Parser): DriveFilePredicate {
  const factors = [parseNot(parser)];
  while (isWord(peek(parser), "and")) {
    parser.at += 1;
    factors.push(parseNot(parser));
  }
  return factors.length === 1
    ? (factors[0] as DriveFilePredicate)
    : (f) => factors.every((factor) => factor(f));
}

function parseNot(parser: Parser): DriveFilePredicate {
  if (isWord(peek(parser), "not")) {
    parser.at += 1;
    const inner = parseNot(parser);
    return (f) => !inner(f);
  }
  if (isOp(peek(parser), "(")) {
    parser.at += 1;
    const inner = parseOr(parser);
    expectOp(parser, ")");
    return inner;
  }
  return parseComparison(parser);
}

function parseComparison(parser: Parser): DriveFilePredicate {
  const first = next(parser);
  if (first.kind === "string") {
    expectWord(parser, "in");
    expectWord(parser, "parents");
    const parentId = parser.resolveId(first.value);
    return (f) => f.parentId === parentId;
  }
  if (first.kind !== "word") throw new QuerySyntaxError();
  const field = first.value;
  if (field === "appProperties" || field === "properties") return parseHas(parser, field);
  const operator = next(parser);
  const op = operator.kind === "word" ? operator.value.toLowerCase() : operator.value;
  const value = next(parser);
  switch (field) {
    case "name":
    case "mimeType":
      return stringComparison(field, op, stringValue(value));
    case "trashed":
    case "starred": {
      // Application data files are never trashed (it is not allowed) nor starred.
      const wanted = booleanValue(value);
      if (op === "=") return () => wanted === false;
      if (op === "!=") return () => wanted !== false;
      throw new QuerySyntaxError();
    }
    case "createdTime":
    case "modifiedTime":
      return timeComparison(field, op, stringValue(value));
    default:
      throw new QuerySyntaxError();
  }
}

function stringComparison(
  field: "name" | "mimeType",
  op: string,
  value: string,
): DriveFilePredicate {
  if (op === "=") return (f) => f[field] === value;
  if (op === "!=") return (f) => f[field] !== value;
  if (op === "contains") {
    const wanted = value.toLowerCase();
    return field === "name"
      ? (f) => f.name.toLowerCase().startsWith(wanted)
      : (f) => f.mimeType.toLowerCase().includes(wanted);
  }
  throw new QuerySyntaxError();
}

function timeComparison(
  field: "createdTime" | "modifiedTime",
  op: string,
  value: string,
): DriveFilePredicate {
  const wantedMs = Date.parse(value);
  if (Number.isNaN(wantedMs)) throw new QuerySyntaxError();
  const key = field === "createdTime" ? "createdTimeMs" : "modifiedTimeMs";
  const compare: Record<string, (a: number) => boolean> = {
    "=": (a) => a === wantedMs,
    "!=": (a) => a !== wantedMs,
    "<": (a) => a < wantedMs,
    "<=": (a) => a <= wantedMs,
    ">": (a) => a > wantedMs,
    ">=": (a) => a >= wantedMs,
  };
  const test = compare[op];
  if (test === undefined) throw new QuerySyntaxError();
  return (f) => test(f[key]);
}

// appProperties has { key='k' and value='v' }
function parseHas(parser: Parser, field: "appProperties" | "properties"): DriveFilePredicate {
  expectWord(parser, "has");
  expectOp(parser, "{");
  expectWord(parser, "key");
  expectOp(parser, "=");
  const key = stringValue(next(parser));
  expectWord(parser, "and");
  expectWord(parser, "value");
  expectOp(parser, "=");
  const value = stringValue(next(parser));
  expectOp(parser, "}");
  return (f) => f[field][key] === value;
}

function peek(parser: Parser): Token | undefined {
  return parser.tokens[parser.at];
}

function next(parser: Parser): Token {
  const token = parser.tokens[parser.at];
  if (token === undefined) throw new QuerySyntaxError();
  parser.at += 1;
  return token;
}

function isWord(token: Token | undefined, word: string): boolean {
  return token?.kind === "word" && token.value.toLowerCase() === word;
}

function isOp(token: Token | undefined, op: string): boolean {
  return token?.kind === "op" && token.value === op;
}

function expectWord(parser: Parser, word: string): void {
  if (!isWord(next(parser), word)) throw new QuerySyntaxError();
}

function expectOp(parser: Parser, op: string): void {
  if (!isOp(next(parser), op)) throw new QuerySyntaxError();
}

function stringValue(token: Token): string {
  if (token.kind !== "string") throw new QuerySyntaxError();
  return token.value;
}

function booleanValue(token: Token): boolean {
  if (token.kind !== "word" || !["true", "false"].includes(token.value.toLowerCase())) {
    throw new QuerySyntaxError();
  }
  return token.value.toLowerCase() === "true";
}

const ORDER_KEYS = [
  "createdTime",
  "modifiedTime",
  "name",
  "name_natural",
  "folder",
  "quotaBytesUsed",
] as const;

/** A `files.list` sort order. */
export type DriveFileComparator = (a: DriveFile, b: DriveFile) => number;

/**
 * `orderBy` (`name,modifiedTime desc`) as a comparator over the keys an application data folder
 * can sort by; undefined when a key or direction is invalid. An absent order keeps creation order.
 */
export function compileOrderBy(orderBy: string | undefined): DriveFileComparator | undefined {
  if (orderBy === undefined || orderBy.trim() === "") return () => 0;
  const comparators: DriveFileComparator[] = [];
  for (const term of orderBy.split(",")) {
    const [key = "", direction, ...rest] = term.trim().split(/\s+/);
    if (!(ORDER_KEYS as readonly string[]).includes(key) || rest.length > 0) return undefined;
    if (direction !== undefined && direction !== "desc") return undefined;
    const sign = direction === "desc" ? -1 : 1;
    const value = sortValue(key as (typeof ORDER_KEYS)[number]);
    comparators.push((a, b) => {
      const [x, y] = [value(a), value(b)];
      return x < y ? -sign : x > y ? sign : 0;
    });
  }
  return (a, b) => {
    for (const compare of comparators) {
      const result = compare(a, b);
      if (result !== 0) return result;
    }
    return 0;
  };
}

function sortValue(key: (typeof ORDER_KEYS)[number]): (file: DriveFile) => string | number {
  switch (key) {
    case "createdTime":
      return (file) => file.createdTimeMs;
    case "modifiedTime":
      return (file) => file.modifiedTimeMs;
    case "quotaBytesUsed":
      return (file) => file.content.length;
    case "folder":
      return (file) => (file.mimeType === FOLDER_MIME_TYPE ? 0 : 1);
    default:
      return (file) => file.name.toLowerCase();
  }
}
