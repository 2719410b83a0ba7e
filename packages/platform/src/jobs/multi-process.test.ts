import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestStore,
  type TestEngine,
  type TestStore,
  testDatabaseUrl,
  testEngines,
} from '../testing/index.js';
import { createJobQueue } from './create-job-queue.js';
import { jobsMigrations } from './migrations.js';

const fixture = fileURLToPath(new URL('./test-fixtures/worker-process.ts', import.meta.url));

function startWorker(
  location: string,
  env: Record<string, string> = {},
): { child: ChildProcess; output: Promise<string> & { until(marker: string): Promise<void> } } {
  const child = spawn(
    process.execPath,
    ['--conditions=calmhub-source', '--import', 'tsx', fixture, location],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let text = '';
  const waiters: Array<{ marker: string; resolve: () => void }> = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of waiters) if (text.includes(waiter.marker)) waiter.resolve();
  });
  const output = Object.assign(new Promise<string>((resolve) => child.on('exit', () => resolve(text))), {
    until: (marker: string) =>
      new Promise<void>((resolve) => (text.includes(marker) ? resolve() : waiters.push({ marker, resolve }))),
  });
  return { child, output };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve()),
  );
}

describe.each(testEngines)('worker processes on %s', (engine: TestEngine) => {
  let testStore: TestStore;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    testStore = await createTestStore(engine, [jobsMigrations]);
    await sql`create table effects (job_id bigint not null, label text not null, worker text not null)`.execute(
      testStore.store.db,
    );
    await sql`create table invocations (job_id bigint not null, worker text not null)`.execute(
      testStore.store.db,
    );
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await stopped(child);
    }
    await testStore.cleanup();
  });

  const jobsLeft = async () =>
    Number(
      (await sql<{ n: number }>`select count(*) as n from calmhub_jobs`.execute(testStore.store.db)).rows[0]
        ?.n,
    );
  const effects = async () =>
    (
      await sql<{
        job_id: number;
        label: string;
        worker: string;
      }>`select job_id, label, worker from effects`.execute(testStore.store.db)
    ).rows;

  it.runIf(engine === 'postgres' || !testDatabaseUrl)(
    "three workers drain 10,000 jobs and record each job's effect exactly once",
    async () => {
      const queue = createJobQueue(testStore.store);
      await queue.enqueueMany(Array.from({ length: 10_000 }, (_, i) => ({ name: 'record', payload: { i } })));
      const workers = [1, 2, 3].map(() => startWorker(testStore.location));
      children.push(...workers.map((w) => w.child));
      await waitUntil(async () => (await jobsLeft()) === 0, 90_000);
      for (const { child } of workers) child.kill('SIGTERM');
      await Promise.all(workers.map((w) => stopped(w.child)));

      const rows = await effects();
      expect(rows.length).toBe(10_000);
      expect(new Set(rows.map((r) => Number(r.job_id))).size).toBe(10_000);
      // The lease outlives every job here, so no job may have been handed out twice.
      const invocations = (
        await sql<{ job_id: number; worker: string }>`select job_id, worker from invocations`.execute(
          testStore.store.db,
        )
      ).rows;
      expect(invocations.length).toBe(10_000);
      expect(new Set(invocations.map((r) => r.worker)).size).toBeGreaterThan(1);
      await queue.close();
    },
    120_000,
  );

  it('re-runs the job of a worker killed with SIGKILL after its lease expires, skipping memoised steps', async () => {
    const queue = createJobQueue(testStore.store);
    const { id } = await queue.enqueue({ name: 'two-steps' });
    const doomed = startWorker(testStore.location, { LEASE_MS: '1000', HANG_IN_SECOND_STEP: '1' });
    children.push(doomed.child);
    await doomed.output.until('IN_SECOND_STEP');
    doomed.child.kill('SIGKILL');
    await stopped(doomed.child);
    expect((await queue.get(id))?.state).toBe('running'); // still leased to the dead worker

    const survivor = startWorker(testStore.location, { LEASE_MS: '1000' });
    children.push(survivor.child);
    await waitUntil(async () => (await jobsLeft()) === 0, 30_000);

    const rows = await effects();
    expect(rows.filter((r) => r.label === 'first')).toHaveLength(1);
    expect(rows.filter((r) => r.label === 'second')).toHaveLength(1);
    expect(rows.find((r) => r.label === 'first')?.worker).toBe(`pid-${doomed.child.pid}`);
    expect(rows.find((r) => r.label === 'second')?.worker).toBe(`pid-${survivor.child.pid}`);
    await queue.close();
  }, 60_000);
});
