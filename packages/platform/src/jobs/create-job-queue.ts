import type { Store } from '../store/store.js';
import { PostgresJobQueue } from './postgres-job-queue.js';
import type { JobQueueOptions } from './sql-job-queue.js';
import { SqliteJobQueue } from './sqlite-job-queue.js';
import type { JobQueue } from './types.js';

export function createJobQueue(
  store: Store,
  options: JobQueueOptions = {},
): JobQueue & { readonly leaseMs: number } {
  return store.dialect === 'postgres'
    ? new PostgresJobQueue(store, options)
    : new SqliteJobQueue(store, options);
}
