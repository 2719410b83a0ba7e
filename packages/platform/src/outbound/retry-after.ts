/**
 * A `Retry-After` header (RFC 9110 §10.2.3) as a delay in ms from `now`: delay-seconds or an
 * HTTP date (a date in the past gives 0). Undefined when absent or unreadable. A repeated header
 * (array) uses its first value.
 */
export function retryAfterMs(value: string | readonly string[] | undefined, now: number): number | undefined {
  const first = typeof value === 'string' ? value : value?.[0];
  if (!first) return undefined;
  const trimmed = first.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only dates that look like HTTP dates: Date.parse accepts far more (e.g. "1.5" or "soon 2").
  if (!/^[A-Za-z]{3,9},? /.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
