import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../store/store.js';
import { createTestStore, FakeClock, type TestStore, testEngines } from '../testing/index.js';
import { createJobQueue } from './create-job-queue.js';
import { jobsMigrations } from './migrations.js';
import type { JobQueue } from './types.js';

const LEASE = 30_000;
const fixedBackoff = (attempt: number) => attempt * 1000;

describe.each(testEngines)('job queue contract on %s', (engine) => {
  let testStore: TestStore;
  let clock: FakeClock;
  let queue: JobQueue;
  const extraStores: Store[] = [];

  function openQueue(store = testStore.store) {
    return createJobQueue(store, { now: clock.now, leaseMs: LEASE, backoff: fixedBackoff, maxAttempts: 3 });
  }
  /**
   * Another worker's connection. SQLite mode runs one process on one connection (a second
   * connection in the same process would block the event loop on busy_timeout), so there
   * other workers share it; PostgreSQL gets a real second pool.
   */
  function openSecondStore(): Store {
    if (engine === 'sqlite') return testStore.store;
    const store = createStore({ databaseUrl: testStore.location });
    extraStores.push(store);
    return store;
  }

  beforeEach(async () => {
    testStore = await createTestStore(engine, [jobsMigrations]);
    clock = new FakeClock();
    queue = openQueue();
  });
  afterEach(async () => {
    await queue.close();
    for (const store of extraStores.splice(0)) await store.close();
    await testStore.cleanup();
  });

  it('claims an enqueued job with its payload and a lease', async () => {
    const { id, created } = await queue.enqueue({ name: 'sync', payload: { projectId: 'p1', n: 1 } });
    expect(created).toBe(true);
    const [job, ...rest] = await queue.claim('w1', 10);
    expect(rest).toEqual([]);
    expect(job).toMatchObject({
      id,
      name: 'sync',
      payload: { projectId: 'p1', n: 1 },
      state: 'running',
      attempts: 1,
      lockedBy: 'w1',
      lockedUntil: clock.now() + LEASE,
    });
    expect(await queue.claim('w2', 10)).toEqual([]);
  });

  it('dedupes by key while the job waits to start, and accepts the key again once it started', async () => {
    const first = await queue.enqueue({ name: 'sync', dedupeKey: 'sync:p1', payload: { v: 1 } });
    const again = await queue.enqueue({ name: 'sync', dedupeKey: 'sync:p1', payload: { v: 2 } });
    expect(again).toEqual({ id: first.id, created: false });
    const claimed = await queue.claim('w1', 10);
    expect(claimed.map((j) => j.payload)).toEqual([{ v: 1 }]);
    const afterStart = await queue.enqueue({ name: 'sync', dedupeKey: 'sync:p1', payload: { v: 3 } });
    expect(afterStart.created).toBe(true);
    expect(
      await queue.enqueueMany([
        { name: 'sync', dedupeKey: 'sync:p1' },
        { name: 'sync', dedupeKey: 'sync:p2' },
      ]),
    ).toBe(1);
  });

  it('does not hand out a job before its run_at', async () => {
    await queue.enqueue({ name: 'later', runAt: clock.now() + 5000 });
    expect(await queue.claim('w1', 10)).toEqual([]);
    expect(await queue.nextRunAt()).toBe(clock.now() + 5000);
    clock.advance(5000);
    expect(await queue.claim('w1', 10)).toHaveLength(1);
  });

  it('orders by priority, then run_at, then enqueue order, and respects the limit and names', async () => {
    await queue.enqueue({ name: 'a', payload: 'low-1' });
    await queue.enqueue({ name: 'a', payload: 'low-2' });
    await queue.enqueue({ name: 'a', payload: 'high', priority: 5 });
    await queue.enqueue({ name: 'b', payload: 'other-name', priority: 9 });
    await queue.enqueue({ name: 'a', payload: 'early', runAt: clock.now() - 1000 });
    const firstTwo = await queue.claim('w1', 2, ['a']);
    expect(firstTwo.map((j) => j.payload)).toEqual(['high', 'early']);
    const rest = await queue.claim('w1', 10, ['a']);
    expect(rest.map((j) => j.payload)).toEqual(['low-1', 'low-2']);
    expect((await queue.claim('w1', 10, [])).length).toBe(0);
  });

  it('runs jobs sharing an ordering key one at a time, in order, even across retries', async () => {
    const a1 = await queue.enqueue({ name: 'push', orderingKey: 'res-A', payload: 'A1' });
    await queue.enqueue({ name: 'push', orderingKey: 'res-A', payload: 'A2' });
    await queue.enqueue({ name: 'push', orderingKey: 'res-B', payload: 'B1' });
    const batch = await queue.claim('w1', 10);
    expect(batch.map((j) => j.payload).sort()).toEqual(['A1', 'B1']);
    expect(await queue.claim('w2', 10)).toEqual([]);

    // A1 fails and waits for its retry: A2 must still wait behind it.
    expect(await queue.fail('w1', a1.id, 'HTTP 503')).toBe('retry');
    expect(await queue.claim('w2', 10)).toEqual([]);
    clock.advance(1000);
    const retried = await queue.claim('w2', 10);
    expect(retried.map((j) => j.payload)).toEqual(['A1']);
    await queue.complete('w2', [a1.id]);
    expect((await queue.claim('w2', 10)).map((j) => j.payload)).toEqual(['A2']);
  });

  it("completes only the claiming worker's job, and deletes it", async () => {
    const { id } = await queue.enqueue({ name: 'x' });
    await queue.claim('w1', 1);
    expect(await queue.complete('intruder', [id])).toBe(0);
    expect(await queue.complete('w1', [id])).toBe(1);
    expect(await queue.get(id)).toBeUndefined();
  });

  it('retries with backoff, honours a later retry-at, and goes dead after max attempts keeping payload and error', async () => {
    const { id } = await queue.enqueue({ name: 'call', payload: { url: '/x' } });
    await queue.claim('w1', 1);
    expect(await queue.fail('w1', id, 'timeout')).toBe('retry');
    expect((await queue.get(id))?.runAt).toBe(clock.now() + 1000);

    clock.advance(1000);
    await queue.claim('w1', 1);
    // Retry-After: 1 asks for sooner than our backoff (2 s at attempt 2): the remote side wins.
    const retryAt = clock.now() + 1000;
    expect(await queue.fail('w1', id, 'HTTP 429', { retryAt })).toBe('retry');
    expect((await queue.get(id))?.runAt).toBe(retryAt);

    clock.advance(1000);
    await queue.claim('w1', 1);
    expect(await queue.fail('w1', id, 'HTTP 500: boom')).toBe('dead');
    expect(await queue.get(id)).toMatchObject({
      state: 'dead',
      attempts: 3,
      payload: { url: '/x' },
      lastError: 'HTTP 500: boom',
    });
    expect(await queue.claim('w1', 10)).toEqual([]);
    expect((await queue.list({ state: 'dead' })).map((j) => j.id)).toEqual([id]);
  });

  it('marks a permanent failure dead at once', async () => {
    const { id } = await queue.enqueue({ name: 'call' });
    await queue.claim('w1', 1);
    expect(await queue.fail('w1', id, 'HTTP 400', { permanent: true })).toBe('dead');
    expect(await queue.fail('w1', id, 'again')).toBe('lost');
  });

  it('keeps a job with heartbeats, requeues it when the lease expires, and buries it when out of attempts', async () => {
    const { id } = await queue.enqueue({ name: 'long', maxAttempts: 2 });
    await queue.claim('w1', 1);
    clock.advance(LEASE - 1);
    expect(await queue.heartbeat('w1', [id])).toBe(1);
    clock.advance(LEASE - 1);
    expect(await queue.reapExpired()).toBe(0);
    clock.advance(2);
    expect(await queue.reapExpired()).toBe(1);
    expect(await queue.get(id)).toMatchObject({ state: 'queued', lockedBy: null });
    expect(await queue.heartbeat('w1', [id])).toBe(0);

    await queue.claim('w2', 1);
    clock.advance(LEASE + 1);
    await queue.reapExpired();
    expect(await queue.get(id)).toMatchObject({ state: 'dead', attempts: 2 });
  });

  it('releases claimed jobs without counting the attempt', async () => {
    const { id } = await queue.enqueue({ name: 'x' });
    await queue.claim('w1', 1);
    expect(await queue.release('w1', [id])).toBe(1);
    expect(await queue.get(id)).toMatchObject({ state: 'queued', attempts: 0, lockedBy: null });
  });

  it('memoises steps, and a failed transactional step leaves neither effect nor memo', async () => {
    await testStore.store.db.schema.createTable('effects').addColumn('label', 'text').execute();
    const { id } = await queue.enqueue({ name: 'multi' });
    let runs = 0;
    const first = await queue.runStep(id, 'fetch', () => ++runs);
    const second = await queue.runStep(id, 'fetch', () => ++runs);
    expect([first, second, runs]).toEqual([1, 1, 1]);

    const insert =
      (label: string) => async (trx: Parameters<Parameters<JobQueue['runTransactionalStep']>[2]>[0]) => {
        await sql`insert into effects (label) values (${label})`.execute(trx);
        return label;
      };
    await expect(
      queue.runTransactionalStep(id, 'write', async (trx) => {
        await insert('doomed')(trx);
        throw new Error('crash mid-step');
      }),
    ).rejects.toThrow('crash mid-step');
    expect(await queue.runTransactionalStep(id, 'write', insert('kept'))).toBe('kept');
    expect(await queue.runTransactionalStep(id, 'write', insert('repeated'))).toBe('kept');
    const rows = await sql<{ label: string }>`select label from effects`.execute(testStore.store.db);
    expect(rows.rows.map((r) => r.label)).toEqual(['kept']);
  });

  it("enqueues inside the caller's transaction: a rollback leaves no job", async () => {
    await expect(
      testStore.store.db.transaction().execute(async (trx) => {
        await queue.enqueue({ name: 'inbox' }, trx);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await queue.list()).toEqual([]);
    await testStore.store.db.transaction().execute((trx) => queue.enqueue({ name: 'inbox' }, trx));
    expect(await queue.list()).toHaveLength(1);
  });

  it('fires a recurring schedule once per period across several workers, skipping missed periods', async () => {
    const queues = [queue, openQueue(openSecondStore()), openQueue(openSecondStore())];
    clock.advance(1000); // mid-period: the first run is at the next quarter hour
    await queue.defineSchedule({
      name: 'sync-all',
      everyMs: 15 * 60_000,
      job: { name: 'sync', payload: { all: true } },
    });
    await queues[1]!.defineSchedule({
      name: 'sync-all',
      everyMs: 15 * 60_000,
      job: { name: 'sync', payload: { all: true } },
    });
    expect(await queue.fireDueSchedules()).toBe(0);

    clock.advance(15 * 60_000);
    const fired = await Promise.all(queues.map((q) => q.fireDueSchedules()));
    expect(fired.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await Promise.all(queues.map((q) => q.fireDueSchedules()))).toEqual([0, 0, 0]);

    clock.advance(3 * 15 * 60_000); // three periods pass while everything was down
    const afterGap = await Promise.all(queues.map((q) => q.fireDueSchedules()));
    expect(afterGap.reduce((a, b) => a + b, 0)).toBe(1);
    const jobs = await queue.list({ name: 'sync' });
    expect(jobs).toHaveLength(2);
    expect(jobs[0]?.payload).toMatchObject({ all: true });
    for (const q of queues.slice(1)) await q.close();
  });

  it('never hands the same job to two concurrent claimers', async () => {
    const other = openQueue(openSecondStore());
    await queue.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ name: 'x', payload: i })));
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? other : queue).claim(`w${i}`, 30)),
    );
    const ids = claims.flat().map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(200);
    await other.close();
  });

  it('wakes listeners when a job is enqueued, also from another connection', async () => {
    const other = openQueue(openSecondStore());
    let wakes = 0;
    const off = queue.onWake(() => wakes++);
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('no wake-up');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    if (engine === 'postgres') {
      // LISTEN announces itself with one wake-up once subscribed; only later ones come from NOTIFY.
      await until(() => wakes >= 1);
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = wakes;
    await (engine === 'postgres' ? other : queue).enqueue({ name: 'x' });
    await until(() => wakes > before);
    off();
    await other.close();
  });
});
