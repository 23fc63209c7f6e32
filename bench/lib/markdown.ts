/** A GitHub-flavoured markdown table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** 12345.6 -> "12,346". */
export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Latency in milliseconds; autocannon records whole milliseconds, so no decimals. */
export function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

export function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}
