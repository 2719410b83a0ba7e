export type Backoff = (attempt: number) => number;

/**
 * Exponential backoff with ±20 % jitter (as Svix does), so that retries of jobs that failed
 * together spread out: 1 s, 2 s, 4 s ... capped at one hour.
 */
export function exponentialBackoff(
  baseMs = 1000,
  capMs = 3_600_000,
  random: () => number = Math.random,
): Backoff {
  return (attempt) => {
    const delay = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(delay * (0.8 + 0.4 * random()));
  };
}
