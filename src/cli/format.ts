/** Output for people (a table) or for scripts (--json: one JSON document, nothing else). */
export type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(' ');
  return String(value);
}

export function table(rows: Row[], columns: string[]): string {
  if (!rows.length) return '(none)';
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((row) => line(columns.map((c) => cell(row[c]))))].join(
    '\n',
  );
}

/** One record as "key: value" lines. */
export function record(row: Row): string {
  const width = Math.max(...Object.keys(row).map((key) => key.length));
  return Object.entries(row)
    .map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${cell(value)}`)
    .join('\n');
}

export function print(result: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${human()}\n`);
}
