import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyFailure, errorMessage, isRetryableStatus } from './classify.js';
import { retryAfterMs } from './retry-after.js';
import { type CachedToken, TokenCache, usableUntil } from './token-cache.js';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Thursday, 01-Jan-26 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(['5', '9'], now)).toBe(5000);
  });
  it('ignores what is absent or unreadable', () => {
    for (const value of [undefined, '', '-1', '1.5', 'soon', '2026-01-01', [] as string[]])
      expect(retryAfterMs(value, now)).toBeUndefined();
  });
});

describe('isRetryableStatus', () => {
  it('retries 408, 429 and 5xx only', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([200, 301, 400, 401, 403, 404, 409, 422, 600].some(isRetryableStatus)).toBe(false);
  });
});

describe('classifyFailure', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('classifies a refused connection as a retryable network error, with the cause in the message', async () => {
    // A port that was just free (fetch refuses well-known ports such as 1 outright).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    const failure = classifyFailure(error);
    expect(failure).toMatchObject({ kind: 'network', retryable: true, code: 'ECONNREFUSED' });
    expect(failure.message).toBe(`fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('tells our timeout from the caller aborting', async () => {
    server = createServer(() => {});
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const timedOut = await fetch(url, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e);
    expect(classifyFailure(timedOut)).toMatchObject({ kind: 'timeout', retryable: true });
    const caller = new AbortController();
    const pending = fetch(url, {
      signal: AbortSignal.any([AbortSignal.timeout(10_000), caller.signal]),
    }).catch((e: unknown) => e);
    setTimeout(() => caller.abort(), 50);
    expect(classifyFailure(await pending, caller.signal)).toMatchObject({ kind: 'aborted', retryable: true });
    server.closeAllConnections();
  });

  it('does not retry a request that cannot be made', async () => {
    const error = await fetch('http://exa mple/').catch((e: unknown) => e);
    expect(classifyFailure(error)).toMatchObject({ kind: 'invalid-request', retryable: false });
    expect(classifyFailure(Object.assign(new Error('bad'), { code: 'UND_ERR_INVALID_ARG' })).retryable).toBe(
      false,
    );
  });

  it('classifies undici timeouts by code and retries the unknown', () => {
    const headers = Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(classifyFailure(new TypeError('fetch failed', { cause: headers }))).toMatchObject({
      kind: 'timeout',
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    expect(classifyFailure(new Error('socket hang up'))).toMatchObject({ kind: 'network', retryable: true });
  });
});

describe('errorMessage', () => {
  it('spells out causes, codes and aggregate errors', () => {
    const refused = (port: number) =>
      Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
    const aggregate = Object.assign(new AggregateError([refused(1), refused(2)], ''), {
      code: 'ECONNREFUSED',
    });
    expect(errorMessage(new TypeError('fetch failed', { cause: aggregate }))).toBe(
      'fetch failed: connect ECONNREFUSED 127.0.0.1:1; connect ECONNREFUSED 127.0.0.1:2',
    );
    expect(
      errorMessage(Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
    ).toBe('UND_ERR_CONNECT_TIMEOUT Connect Timeout Error');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(new Error(''))).toBe('unknown error');
  });
});

describe('TokenCache', () => {
  const token = (n: number, until: number): CachedToken => ({
    accessToken: `t${n}`,
    tokenType: 'Bearer',
    usableUntil: until,
  });

  it('shares one request among concurrent callers and caches until usableUntil', async () => {
    const cache = new TokenCache();
    let now = 1000;
    let calls = 0;
    let release: () => void = () => {};
    const fetchToken = () =>
      new Promise<CachedToken>((resolve) => {
        calls++;
        release = () => resolve(token(calls, now + 500));
      });
    const waiting = Promise.all([1, 2, 3].map(() => cache.get('d1', () => now, fetchToken)));
    await Promise.resolve();
    release();
    expect((await waiting).map((t) => t.accessToken)).toEqual(['t1', 't1', 't1']);
    expect(await cache.get('d1', () => now, fetchToken)).toMatchObject({ accessToken: 't1' });
    expect(cache.fetches).toBe(1);
    now = 1500;
    const renewed = cache.get('d1', () => now, fetchToken);
    await Promise.resolve();
    release();
    expect((await renewed).accessToken).toBe('t2');
  });

  it('does not cache failures, and invalidates by key or prefix', async () => {
    const cache = new TokenCache();
    await expect(
      cache.get(
        'd1',
        () => 0,
        () => Promise.reject(new Error('down')),
      ),
    ).rejects.toThrow('down');
    expect(
      (
        await cache.get(
          'd1',
          () => 0,
          async () => token(1, 100),
        )
      ).accessToken,
    ).toBe('t1');
    await cache.get(
      'd1\u0000b',
      () => 0,
      async () => token(2, 100),
    );
    cache.invalidatePrefix('d1');
    expect(
      (
        await cache.get(
          'd1\u0000b',
          () => 0,
          async () => token(3, 100),
        )
      ).accessToken,
    ).toBe('t3');
    cache.invalidate('d1');
    expect(
      (
        await cache.get(
          'd1',
          () => 0,
          async () => token(4, 100),
        )
      ).accessToken,
    ).toBe('t4');
  });

  it('renews a minute before expiry, or after 90 % of a short lifetime', () => {
    expect(usableUntil(0, 3600)).toBe(3_540_000);
    expect(usableUntil(0, 100)).toBe(90_000);
  });
});
