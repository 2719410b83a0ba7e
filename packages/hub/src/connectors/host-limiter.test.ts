import { describe, expect, it } from 'vitest';
import { HostLimiter } from './host-limiter.js';

describe('HostLimiter', () => {
  it('keeps at most maxConcurrent calls in flight per host, and hosts apart', async () => {
    const limiter = new HostLimiter({ maxConcurrent: 2, ratePerSecond: 1000 });
    let inFlight = 0;
    let peak = 0;
    const call = async (host: string) => {
      const release = await limiter.acquire(host);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      release();
    };
    await Promise.all(Array.from({ length: 10 }, () => call('a')));
    expect(peak).toBe(2);
    peak = 0;
    await Promise.all([call('a'), call('a'), call('b'), call('b')]);
    expect(peak).toBe(4);
  });

  it('spaces calls by the token bucket once the burst is spent', async () => {
    let now = 0;
    const limiter = new HostLimiter({ maxConcurrent: 100, ratePerSecond: 10 }, () => now);
    let granted = 0;
    for (let i = 0; i < 15; i++) {
      void limiter.acquire('a').then((release) => {
        granted++;
        release();
      });
    }
    await new Promise((r) => setImmediate(r));
    expect(granted).toBe(10);
    now = 300; // three tokens later
    await new Promise((r) => setTimeout(r, 350));
    expect(granted).toBe(13);
  });
});
