import { SqlJobQueue } from './sql-job-queue.js';

/**
 * SQLite allows one writer at a time, so a claim's UPDATE ... RETURNING is already atomic.
 * Wake-ups are in-process: SQLite mode runs one hub process.
 */
export class SqliteJobQueue extends SqlJobQueue {
  protected lockForClaim<Q>(query: Q): Q {
    return query;
  }
}
