import type { Dialect } from './store.js';

/** Bound-parameter marks `from+1 … from+count`, as the dialect writes them (`?` or `$n`). */
export function sqlPlaceholders(dialect: Dialect, from: number, count: number): string {
  const marks: string[] = [];
  for (let i = 0; i < count; i++) marks.push(dialect === 'postgres' ? `$${from + i + 1}` : '?');
  return marks.join(', ');
}

const texts = new Map<string, string>();

/**
 * SQL text built once per dialect and row count, then reused: on hot paths (the webhook edge's
 * batches, their jobs) the query builder's building and compiling cost as much as running the
 * statement, and the same text lets SQLite reuse its prepared statement.
 */
export function fixedSql(key: string, dialect: Dialect, rows: number, build: () => string): string {
  const cacheKey = `${key}:${dialect}:${rows}`;
  let text = texts.get(cacheKey);
  if (text === undefined) {
    text = build();
    texts.set(cacheKey, text);
  }
  return text;
}

/** `insert into <table> (<columns>) values (…), (…) <suffix>` for `rows` rows, cached (fixedSql). */
export function multiRowInsertSql(
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  rows: number,
  suffix: string,
): string {
  return fixedSql(`insert ${table} ${suffix}`, dialect, rows, () => {
    const values: string[] = [];
    for (let r = 0; r < rows; r++)
      values.push(`(${sqlPlaceholders(dialect, r * columns.length, columns.length)})`);
    return `insert into ${table} (${columns.join(', ')}) values ${values.join(', ')} ${suffix}`;
  });
}
