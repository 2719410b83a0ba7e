import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestStore, FakeClock, type TestStore, testEngines } from '../testing/index.js';
import { createJobQueue } from './create-job-queue.js';
import { jobsMigrations } from './migrations.js';
import type { JobQueue } from './types.js';
import { type JobHandler, JobWorker, PermanentJobError, RetryJobError } from './worker.js';

async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(testEngines)('job worker on %s', (engine) => {
  let testStore: TestStore;
  let queue: JobQueue & { leaseMs: number };
  let worker: JobWorker | undefined;

  function startWorker(handlers: Record<string, JobHandler>, concurrency = 5): JobWorker {
    worker = new JobWorker({ queue, handlers, concurrency, pollIntervalMs: 20 });
    worker.start();
    return worker;
  }

  beforeEach(async () => {
    testStore = await createTestStore(engine, [jobsMigrations]);
    queue = createJobQueue(testStore.store, { backoff: () => 10, leaseMs: 5000 });
  });
  afterEach(async () => {
    await worker?.stop(1000);
    worker = undefined;
    await queue.close();
    await testStore.cleanup();
  });

  it('runs a job and removes it once done', async () => {
    const seen: unknown[] = [];
    startWorker({ greet: async (payload) => void seen.push(payload) });
    const { id } = await queue.enqueue({ name: 'greet', payload: { to: 'Cloud ALM' } });
    await waitFor(async () => (await queue.get(id)) === undefined);
    expect(seen).toEqual([{ to: 'Cloud ALM' }]);
  });

  it('retries a failing job and does not repeat its completed steps', async () => {
    let stepRuns = 0;
    let attempts = 0;
    startWorker({
      flaky: async (_payload, { step }) => {
        await step('expensive', () => ++stepRuns);
        attempts++;
        if (attempts < 3) throw new Error(`attempt ${attempts} failed`);
      },
    });
    const { id } = await queue.enqueue({ name: 'flaky' });
    await waitFor(async () => (await queue.get(id)) === undefined);
    expect({ attempts, stepRuns }).toEqual({ attempts: 3, stepRuns: 1 });
  });

  it('schedules the retry at the time a handler asks for (Retry-After)', async () => {
    const retryAt = Date.now() + 3_600_000;
    startWorker({ limited: async () => Promise.reject(new RetryJobError('HTTP 429', retryAt)) });
    const { id } = await queue.enqueue({ name: 'limited' });
    const job = await waitFor(async () => {
      const current = await queue.get(id);
      return current?.state === 'queued' && current.attempts === 1 ? current : undefined;
    });
    expect(job).toMatchObject({ runAt: retryAt, lastError: 'HTTP 429' });
  });

  it('buries a job on a permanent error, keeping its payload and the error', async () => {
    startWorker({ reject: async () => Promise.reject(new PermanentJobError('HTTP 400: bad mapping')) });
    const { id } = await queue.enqueue({ name: 'reject', payload: { keep: 'me' } });
    const job = await waitFor(async () =>
      (await queue.get(id))?.state === 'dead' ? queue.get(id) : undefined,
    );
    expect(job).toMatchObject({
      state: 'dead',
      attempts: 1,
      payload: { keep: 'me' },
      lastError: 'HTTP 400: bad mapping',
    });
  });

  it('runs jobs with the same ordering key one at a time, in order, while others run in parallel', async () => {
    const order: string[] = [];
    let inFlightA = 0;
    let maxInFlightA = 0;
    startWorker(
      {
        push: async (payload: { key: string; n: number }) => {
          if (payload.key === 'A') maxInFlightA = Math.max(maxInFlightA, ++inFlightA);
          await new Promise((r) => setTimeout(r, 5));
          order.push(`${payload.key}${payload.n}`);
          if (payload.key === 'A') inFlightA--;
        },
      },
      10,
    );
    await queue.enqueueMany([
      ...[1, 2, 3, 4, 5].map((n) => ({ name: 'push', orderingKey: 'A', payload: { key: 'A', n } })),
      ...[1, 2].map((n) => ({ name: 'push', orderingKey: 'B', payload: { key: 'B', n } })),
    ]);
    await waitFor(() => order.length === 7);
    expect(order.filter((x) => x.startsWith('A'))).toEqual(['A1', 'A2', 'A3', 'A4', 'A5']);
    expect(order.filter((x) => x.startsWith('B'))).toEqual(['B1', 'B2']);
    expect(maxInFlightA).toBe(1);
  });

  it('on stop, waits for running jobs up to the timeout, then releases them for another worker', async () => {
    let signalled = false;
    const w = startWorker({
      slow: (_payload, { signal }) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            signalled = true;
            reject(new Error('aborted'));
          });
        }),
    });
    const { id } = await queue.enqueue({ name: 'slow' });
    await waitFor(async () => (await queue.get(id))?.state === 'running');
    await w.stop(50);
    worker = undefined;
    expect(signalled).toBe(true);
    expect(await queue.get(id)).toMatchObject({ state: 'queued', attempts: 0, lockedBy: null });
  });

  it('claims a batch beyond its concurrency, runs at most `concurrency` at once, and releases what it has not started on stop', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let finished = 0;
    let gate: () => void = () => {};
    const opened = new Promise<void>((resolve) => (gate = resolve));
    worker = new JobWorker({
      queue,
      concurrency: 2,
      batchSize: 20,
      pollIntervalMs: 20,
      handlers: {
        work: async (payload: { n: number }) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          if (payload.n >= 10) await opened;
          inFlight--;
          finished++;
        },
      },
    });
    worker.start();
    await queue.enqueueMany(Array.from({ length: 30 }, (_, n) => ({ name: 'work', payload: { n } })));
    // Jobs 0-9 finish; 10 and 11 block; 12-19 of the first batch of 20 wait in the buffer, leased.
    await waitFor(() => finished === 10 && inFlight === 2);
    expect((await queue.list({ state: 'running' })).length).toBe(10);
    expect((await queue.list({ state: 'queued' })).length).toBe(10);

    const stopping = worker.stop(50);
    gate();
    await stopping;
    worker = undefined;
    expect(maxInFlight).toBe(2);
    // The two that were running completed; the eight never started went back to the queue.
    const queued = await queue.list({ state: 'queued', limit: 100 });
    expect(queued.length).toBe(18);
    expect(queued.every((job) => job.attempts === 0)).toBe(true);
    expect(await queue.list({ state: 'running' })).toEqual([]);
  });

  it('fires recurring schedules from the worker loop', async () => {
    const clock = new FakeClock(Date.now());
    await queue.close();
    queue = createJobQueue(testStore.store, { now: clock.now });
    await queue.defineSchedule({
      name: 'sync-every-15-min',
      everyMs: 15 * 60_000,
      job: { name: 'sync', payload: { scope: 'all' } },
    });
    const runs: unknown[] = [];
    startWorker({ sync: async (payload) => void runs.push(payload) });
    clock.advance(15 * 60_000);
    await waitFor(() => runs.length === 1);
    expect(runs[0]).toMatchObject({ scope: 'all' });
  });
});
