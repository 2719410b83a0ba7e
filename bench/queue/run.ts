/**
 * Job-queue throughput: calmhub's queue on SQLite and PostgreSQL, and on PostgreSQL pg-boss and
 * graphile-worker on the same workload in the same run, reported as ratios.
 *
 *   npm run bench:queue            (PostgreSQL from CALMHUB_BENCH_DATABASE_URL, else
 *                                   CALMHUB_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_JOBS=50000 npm run bench:queue
 *
 * Workloads (trivial jobs, one process, everything on this machine):
 *   primitives    for each batch: enqueue B jobs, claim B, complete B (pg-boss: insert/send, fetch, complete)
 *   worker drain  enqueue N jobs in batches of B while a worker runs them, 10 at a time, fetching B
 *                 per query (graphile-worker: addJobs + run with localQueue.size = B)
 * pg-boss appears on primitives only: its worker loop waits out a polling interval (>= 0.5 s)
 * after each fetch, which would measure the interval, not the queue. graphile-worker appears on
 * the drain only: it has no public claim API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createJobQueue,
  createStore,
  JobWorker,
  jobsMigrations,
  migrateToLatest,
  type Store,
} from '@calmhub/platform';
import { Logger as GraphileLogger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import pg from 'pg';
import PgBoss from 'pg-boss';

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const JOBS_UNBATCHED = Math.min(JOBS, Number(process.env.BENCH_JOBS_UNBATCHED ?? 3_000));
const ADMIN_URL =
  process.env.CALMHUB_BENCH_DATABASE_URL ||
  process.env.CALMHUB_TEST_DATABASE_URL ||
  'postgres://postgres@127.0.0.1:5432/test';

interface Row {
  workload: string;
  store: string;
  batch: number;
  jobs: number;
  calmhub: number;
  baseline?: { name: string; rate: number };
}

const payload = { projectId: '3532c9fd-5f2e-4b8a-9a07-2b6b1a0f6c11', kind: 'sync' };

async function timed(jobs: number, body: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await body();
  return jobs / ((performance.now() - start) / 1000);
}

function chunks(total: number, batch: number): number[] {
  const sizes: number[] = [];
  for (let done = 0; done < total; done += batch) sizes.push(Math.min(batch, total - done));
  return sizes;
}

// ---- calmhub ---------------------------------------------------------------------------

async function calmhubPrimitives(store: Store, jobs: number, batch: number): Promise<number> {
  const queue = createJobQueue(store);
  const rate = await timed(jobs, async () => {
    for (const size of chunks(jobs, batch)) {
      if (size === 1) await queue.enqueue({ name: 'bench', payload });
      else await queue.enqueueMany(Array.from({ length: size }, () => ({ name: 'bench', payload })));
      const claimed = await queue.claim('bench-worker', size, ['bench']);
      await queue.complete(
        'bench-worker',
        claimed.map((job) => job.id),
      );
    }
  });
  await queue.close();
  return rate;
}

async function calmhubDrain(store: Store, jobs: number, batch: number): Promise<number> {
  const queue = createJobQueue(store);
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new JobWorker({
    queue,
    // Same settings as graphile-worker below: 10 at a time, fetching `batch` per query.
    concurrency: 10,
    batchSize: batch,
    pollIntervalMs: 50,
    handlers: {
      bench: async () => {
        if (++done === jobs) finish();
      },
    },
  });
  worker.start();
  const rate = await timed(jobs, async () => {
    for (const size of chunks(jobs, batch)) {
      if (size === 1) await queue.enqueue({ name: 'bench', payload });
      else await queue.enqueueMany(Array.from({ length: size }, () => ({ name: 'bench', payload })));
    }
    await finished;
  });
  await worker.stop(5000);
  await queue.close();
  return rate;
}

// ---- baselines -------------------------------------------------------------------------

async function pgBossPrimitives(url: string, jobs: number, batch: number): Promise<number> {
  const boss = new PgBoss({ connectionString: url, max: 4, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('bench');
  const rate = await timed(jobs, async () => {
    for (const size of chunks(jobs, batch)) {
      if (size === 1) await boss.send('bench', payload);
      else await boss.insert(Array.from({ length: size }, () => ({ name: 'bench', data: payload })));
      const fetched = await boss.fetch<typeof payload>('bench', { batchSize: size });
      await boss.complete(
        'bench',
        fetched.map((job) => job.id),
      );
    }
  });
  await boss.stop({ graceful: false, wait: true });
  return rate;
}

async function graphileDrain(url: string, jobs: number, batch: number): Promise<number> {
  const pgPool = new pg.Pool({ connectionString: url, max: 10 });
  pgPool.on('error', () => {});
  const utils = await makeWorkerUtils({ pgPool, logger: quietGraphileLogger() });
  await utils.migrate();
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const runner = await runGraphile({
    pgPool,
    concurrency: 10,
    noHandleSignals: true,
    pollInterval: 50,
    logger: quietGraphileLogger(),
    preset: batch > 1 ? { worker: { localQueue: { size: batch } } } : {},
    taskList: {
      bench: async () => {
        if (++done === jobs) finish();
      },
    },
  });
  const rate = await timed(jobs, async () => {
    for (const size of chunks(jobs, batch)) {
      if (size === 1) await utils.addJob('bench', payload);
      else await utils.addJobs(Array.from({ length: size }, () => ({ identifier: 'bench', payload })));
    }
    await finished;
  });
  await runner.stop();
  await utils.release();
  await pgPool.end();
  return rate;
}

// graphile-worker logs every start and stop at info level; keep the table readable.
const quietGraphileLogger = () => new GraphileLogger(() => () => {});

// ---- databases -------------------------------------------------------------------------

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function freshPostgres(name: string): Promise<string> {
  await admin(`drop database if exists ${name} with (force)`);
  await admin(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function postgresReachable(): Promise<boolean> {
  try {
    await admin('select 1');
    return true;
  } catch {
    return false;
  }
}

async function withCalmhubStore<T>(
  engine: 'sqlite' | 'postgres',
  body: (store: Store) => Promise<T>,
): Promise<T> {
  let store: Store;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-bench-'));
    store = createStore({ sqliteFile: join(dir, 'bench.sqlite') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    store = createStore({ databaseUrl: await freshPostgres('calmhub_bench_calmhub'), poolSize: 4 });
    cleanup = () => admin('drop database if exists calmhub_bench_calmhub with (force)');
  }
  await migrateToLatest(store, [jobsMigrations]);
  try {
    return await body(store);
  } finally {
    await store.close();
    await cleanup();
  }
}

async function withBaselineDatabase<T>(name: string, body: (url: string) => Promise<T>): Promise<T> {
  const url = await freshPostgres(name);
  try {
    return await body(url);
  } finally {
    await admin(`drop database if exists ${name} with (force)`);
  }
}

// ---- main ------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rows: Row[] = [];
  const havePostgres = await postgresReachable();
  const engines: Array<'sqlite' | 'postgres'> = havePostgres ? ['sqlite', 'postgres'] : ['sqlite'];
  if (!havePostgres)
    process.stdout.write(
      `PostgreSQL not reachable at ${ADMIN_URL}: PostgreSQL rows and baselines skipped.\n`,
    );

  for (const engine of engines) {
    for (const batch of [1, 100]) {
      const jobs = batch === 1 ? JOBS_UNBATCHED : JOBS;
      // Warm up JIT and connections once per configuration, then measure.
      const primitives = await withCalmhubStore(engine, async (store) => {
        await calmhubPrimitives(store, Math.min(500, jobs), batch);
        return calmhubPrimitives(store, jobs, batch);
      });
      const primitivesRow: Row = { workload: 'primitives', store: engine, batch, jobs, calmhub: primitives };
      if (engine === 'postgres') {
        const rate = await withBaselineDatabase('calmhub_bench_pgboss', async (url) => {
          await pgBossPrimitives(url, Math.min(500, jobs), batch);
          return pgBossPrimitives(url, jobs, batch);
        });
        primitivesRow.baseline = { name: 'pg-boss 10.4', rate };
      }
      rows.push(primitivesRow);
      const drain = await withCalmhubStore(engine, async (store) => {
        await calmhubDrain(store, Math.min(500, jobs), batch);
        return calmhubDrain(store, jobs, batch);
      });
      const drainRow: Row = { workload: 'worker drain', store: engine, batch, jobs, calmhub: drain };
      if (engine === 'postgres') {
        const rate = await withBaselineDatabase('calmhub_bench_graphile', async (url) => {
          await graphileDrain(url, Math.min(500, jobs), batch);
          return graphileDrain(url, jobs, batch);
        });
        drainRow.baseline = { name: 'graphile-worker 0.17', rate };
      }
      rows.push(drainRow);
    }
  }
  printTable(rows);
}

function printTable(rows: Row[]): void {
  const header = [
    'workload',
    'store',
    'batch',
    'jobs',
    'calmhub jobs/s',
    'baseline',
    'baseline jobs/s',
    'ratio',
  ];
  const lines = rows.map((row) => [
    row.workload,
    row.store,
    String(row.batch),
    String(row.jobs),
    Math.round(row.calmhub).toLocaleString('en-US'),
    row.baseline?.name ?? '-',
    row.baseline ? Math.round(row.baseline.rate).toLocaleString('en-US') : '-',
    row.baseline ? `${(row.calmhub / row.baseline.rate).toFixed(1)}x` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 && i !== 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`\nJob queue throughput (${process.version}, ${new Date().toISOString()})\n`);
  process.stdout.write(`${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const line of lines) process.stdout.write(`${format(line)}\n`);
  const sqliteBatched = rows.find(
    (r) => r.store === 'sqlite' && r.batch === 100 && r.workload === 'primitives',
  );
  if (sqliteBatched) {
    process.stdout.write(
      `\nSQLite, batched claims: ${Math.round(sqliteBatched.calmhub).toLocaleString('en-US')} jobs/s (goal >= 20,000)\n`,
    );
  }
}

await main();
