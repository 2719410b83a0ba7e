/** Feature timestamps: ISO-8601 UTC with milliseconds, as the Features fixtures show. */
export function isoMillis(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/**
 * Task timestamps: Cloud ALM's Tasks service prints seven fractional digits
 * (`2022-03-01T06:37:01.414951300Z`); we only keep milliseconds, so the rest is zeros. Clients
 * that compare such strings instead of parsing them break here as they would on a tenant.
 */
export function isoTask(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an ISO-8601 timestamp with a zone (any number of fractional digits); NaN when invalid. */
export function parseTimestamp(value: string): number {
  if (!TIMESTAMP.test(value)) return Number.NaN;
  // Date.parse accepts at most millisecond precision reliably; trim extra digits first.
  const trimmed = value.replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(trimmed);
}

/** Start of the UTC day of a `YYYY-MM-DD` date, in epoch milliseconds. */
export function dayStart(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

export const DAY_MS = 86_400_000;
