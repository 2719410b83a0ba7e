import type { Io } from '../commands/command.js';

export type Column<T> = [header: string, value: (row: T) => unknown];

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.join(',') : '-';
  return String(value);
}

/** A plain aligned table, as readable in a terminal as in a log; "(none)" when empty. */
export function printTable<T>(io: Io, rows: T[], columns: Column<T>[]): void {
  if (rows.length === 0) {
    io.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((row) => columns.map(([, value]) => cell(value(row))));
  const widths = columns.map(([header], i) =>
    Math.max(header.length, ...cells.map((r) => (r[i] as string).length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  io.stdout.write(`${line(columns.map(([h]) => h.toUpperCase()))}\n`);
  for (const row of cells) io.stdout.write(`${line(row)}\n`);
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Key-value lines for one object. */
export function printFields(io: Io, fields: Array<[string, unknown]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [key, value] of fields) io.stdout.write(`${`${key}:`.padEnd(width + 2)}${cell(value)}\n`);
}
