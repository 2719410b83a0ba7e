export interface CachedToken {
  accessToken: string;
  tokenType: string;
  /** Epoch ms after which the token must not be used any more (already shortened by the margin). */
  usableUntil: number;
}

/**
 * OAuth2 client-credentials tokens by key (e.g. per destination or per tenant: "cached and
 * renewed shortly before expiry"). Concurrent callers for one key share a single token request
 * (single flight); a failed request is not cached, so the next caller tries again.
 */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  /** Token requests made, for tests and consoles. */
  fetches = 0;

  async get(key: string, now: () => number, fetchToken: () => Promise<CachedToken>): Promise<CachedToken> {
    const cached = this.tokens.get(key);
    if (cached && cached.usableUntil > now()) return cached;
    const running = this.inflight.get(key);
    if (running) return running;
    const request = (async () => {
      this.fetches++;
      try {
        const token = await fetchToken();
        this.tokens.set(key, token);
        return token;
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, request);
    return request;
  }

  invalidate(key: string): void {
    this.tokens.delete(key);
  }

  /** Drops every token whose key starts with `prefix` (e.g. after a destination is edited or deleted). */
  invalidatePrefix(prefix: string): void {
    for (const key of this.tokens.keys()) if (key.startsWith(prefix)) this.tokens.delete(key);
  }
}

/** Renew a minute before expiry, or after 90 % of a short lifetime. */
export function usableUntil(receivedAt: number, expiresInSeconds: number): number {
  const lifetime = expiresInSeconds * 1000;
  return receivedAt + lifetime - Math.min(60_000, lifetime / 10);
}
