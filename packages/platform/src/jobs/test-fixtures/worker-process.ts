/**
 * A worker process for the multi-process tests: `worker-process.ts <sqlite file | postgres url>`.
 * Env: LEASE_MS, HANG_IN_SECOND_STEP=1 (block forever inside the second step, to be SIGKILLed).
 */
import { sql } from 'kysely';
import { createStore } from '../../store/store.js';
import { createJobQueue } from '../create-job-queue.js';
import { JobWorker } from '../worker.js';

const [location] = process.argv.slice(2);
if (!location) throw new Error('usage: worker-process.ts <location>');
const store = location.startsWith('postgres')
  ? createStore({ databaseUrl: location, poolSize: 4 })
  : createStore({ sqliteFile: location });
const queue = createJobQueue(store, { leaseMs: Number(process.env.LEASE_MS ?? 30_000) });
const me = `pid-${process.pid}`;

const record = (jobId: number, label: string) =>
  queue.runTransactionalStep(jobId, label, async (trx) => {
    await sql`insert into effects (job_id, label, worker) values (${jobId}, ${label}, ${me})`.execute(trx);
  });

const worker = new JobWorker({
  queue,
  concurrency: 20,
  pollIntervalMs: 100,
  workerId: me,
  handlers: {
    record: async (_payload, { job }) => {
      // Outside any memo: a job handed to two workers would leave two invocation rows.
      await sql`insert into invocations (job_id, worker) values (${job.id}, ${me})`.execute(store.db);
      await record(job.id, 'record');
    },
    'two-steps': async (_payload, { job }) => {
      await record(job.id, 'first');
      if (process.env.HANG_IN_SECOND_STEP === '1') {
        process.stdout.write('IN_SECOND_STEP\n');
        await new Promise(() => {});
      }
      await record(job.id, 'second');
    },
  },
});
worker.start();
process.stdout.write('READY\n');
process.on('SIGTERM', () => {
  void worker.stop(5000).then(async () => {
    await queue.close();
    await store.close();
    process.exit(0);
  });
});
