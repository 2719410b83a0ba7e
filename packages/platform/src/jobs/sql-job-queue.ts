import { EventEmitter } from 'node:events';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import { multiRowInsertSql } from '../store/fixed-sql.js';
import { readJson, type Store, writeJson } from '../store/store.js';
import { type Backoff, exponentialBackoff } from './backoff.js';
import type {
  Executor,
  FailOutcome,
  Job,
  JobQueue,
  JobSpec,
  JobState,
  JobsTable,
  JobTables,
  ScheduleSpec,
} from './types.js';

export interface JobQueueOptions {
  /** Default for jobs enqueued without `maxAttempts`. */
  maxAttempts?: number;
  leaseMs?: number;
  backoff?: Backoff;
  /** Injectable clock (epoch ms) for deterministic tests. */
  now?: () => number;
}

type Row = Omit<JobsTable, 'id'> & { id: number };

/** Columns of an enqueue, in the order of its fixed SQL (multiRowInsertSql). */
const JOB_COLUMNS = [
  'name',
  'payload',
  'dedupe_key',
  'ordering_key',
  'priority',
  'run_at',
  'state',
  'attempts',
  'max_attempts',
  'created_at',
  'updated_at',
] as const;
/**
 * States written into the SQL as literals where a partial index is meant to serve the query
 * (`calmhub_jobs_due`, `_ordering`, `_lease`): SQLite uses a partial index only when the query's
 * own terms match the index's WHERE, and a bound parameter never does (it scanned the whole
 * table, and the ordering check scanned it again per candidate).
 */
const QUEUED = sql.lit('queued').$castTo<JobState>();
const RUNNING = sql.lit('running').$castTo<JobState>();

/** Most jobs in one INSERT: far below both engines' bound-parameter limits. */
const ENQUEUE_CHUNK = 500;

/**
 * The queue's SQL, shared by both engines. Subclasses supply row locking for claims and
 * the wake-up channel; everything else (ordering, dedupe, retries, steps, schedules) is here.
 */

export abstract class SqlJobQueue implements JobQueue {
  readonly dialect: Store['dialect'];
  protected readonly db: Kysely<JobTables>;
  protected readonly wake = new EventEmitter();
  protected readonly now: () => number;
  readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;

  constructor(store: Store, options: JobQueueOptions = {}) {
    this.dialect = store.dialect;
    this.db = store.db.withTables<JobTables>();
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.backoff = options.backoff ?? exponentialBackoff();
    this.wake.setMaxListeners(0);
  }

  /** Adds the engine's row locking to the claim subquery. */
  protected abstract lockForClaim<Q>(query: Q): Q;

  protected notifyLocal(): void {
    this.wake.emit('wake');
  }

  /**
   * A job enqueued in the caller's transaction is visible once that commits. No commit hook is
   * available, so idle workers of this process look again right after the current turn (when a
   * store transaction without remote I/O has committed) and shortly after; otherwise they would
   * sleep a whole poll interval. (PostgreSQL also notifies other processes on commit.)
   */
  protected notifyAfterCommit(): void {
    // One pair of wake-ups in flight at a time: a burst of enqueues wakes idle workers once, not
    // once per job (each wake-up costs a claim query).
    if (this.afterCommitPending) return;
    this.afterCommitPending = true;
    setImmediate(() => this.notifyLocal());
    setTimeout(() => {
      this.afterCommitPending = false;
      this.notifyLocal();
    }, 25).unref();
  }

  private afterCommitPending = false;

  onWake(listener: () => void): () => void {
    this.wake.on('wake', listener);
    return () => this.wake.off('wake', listener);
  }

  private toRow(spec: JobSpec, now: number) {
    return {
      name: spec.name,
      payload: writeJson(spec.payload ?? {}),
      dedupe_key: spec.dedupeKey ?? null,
      ordering_key: spec.orderingKey ?? null,
      priority: spec.priority ?? 0,
      run_at: spec.runAt ?? now,
      state: 'queued' as const,
      attempts: 0,
      max_attempts: spec.maxAttempts ?? this.maxAttempts,
      created_at: now,
      updated_at: now,
    };
  }

  async enqueue(spec: JobSpec, executor?: Executor): Promise<{ id: number; created: boolean }> {
    const db = (executor ?? this.db) as Kysely<JobTables>;
    const inserted = await db
      .insertInto('calmhub_jobs')
      .values(this.toRow(spec, this.now()))
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (executor) this.notifyAfterCommit();
    else this.notifyLocal();
    if (inserted) return { id: Number(inserted.id), created: true };
    const existing = await db
      .selectFrom('calmhub_jobs')
      .select('id')
      .where('dedupe_key', '=', spec.dedupeKey ?? '')
      .executeTakeFirstOrThrow();
    return { id: Number(existing.id), created: false };
  }

  async enqueueMany(specs: JobSpec[], executor?: Executor): Promise<number> {
    if (specs.length === 0) return 0;
    const db = (executor ?? this.db) as Kysely<JobTables>;
    let created = 0;
    for (let i = 0; i < specs.length; i += ENQUEUE_CHUNK) {
      const { sql, parameters } = this.enqueueStatement(specs.slice(i, i + ENQUEUE_CHUNK));
      const result = await db.executeQuery(CompiledQuery.raw(sql, parameters));
      created += Number(result.numAffectedRows ?? 0);
    }
    if (executor) this.notifyAfterCommit();
    else this.notifyLocal();
    return created;
  }

  enqueueStatement(specs: JobSpec[]): { sql: string; parameters: unknown[] } {
    if (specs.length === 0 || specs.length > ENQUEUE_CHUNK)
      throw new Error(`enqueueStatement: 1 to ${ENQUEUE_CHUNK} jobs, not ${specs.length}`);
    const now = this.now();
    const parameters: unknown[] = [];
    for (const spec of specs) {
      const row = this.toRow(spec, now);
      for (const column of JOB_COLUMNS) parameters.push(row[column]);
    }
    const sql = multiRowInsertSql(
      this.dialect,
      'calmhub_jobs',
      JOB_COLUMNS,
      specs.length,
      'on conflict (dedupe_key) do nothing',
    );
    return { sql, parameters };
  }

  enqueued(): void {
    this.notifyLocal();
  }

  async claim(workerId: string, limit: number, names?: readonly string[]): Promise<Job[]> {
    if (limit <= 0 || names?.length === 0) return [];
    const now = this.now();
    let candidates = this.db
      .selectFrom('calmhub_jobs as j')
      .select('j.id')
      .where('j.state', '=', QUEUED)
      .where('j.run_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('j.ordering_key', 'is', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('calmhub_jobs as o')
                .select(sql.lit(1).as('one'))
                .whereRef('o.ordering_key', '=', 'j.ordering_key')
                .where('o.state', 'in', [QUEUED, RUNNING])
                .whereRef('o.id', '<', 'j.id'),
            ),
          ),
        ]),
      )
      .orderBy('j.priority', 'desc')
      .orderBy('j.run_at')
      .orderBy('j.id')
      .limit(limit);
    if (names) candidates = candidates.where('j.name', 'in', names);
    const rows = (await this.db
      .updateTable('calmhub_jobs')
      .set((eb) => ({
        state: 'running',
        locked_by: workerId,
        locked_until: now + this.leaseMs,
        attempts: eb('attempts', '+', 1),
        dedupe_key: null,
        updated_at: now,
      }))
      .where('id', 'in', this.lockForClaim(candidates))
      .returningAll()
      .execute()) as Row[];
    return rows.map(toJob).sort((a, b) => b.priority - a.priority || a.runAt - b.runAt || a.id - b.id);
  }

  async heartbeat(workerId: string, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const now = this.now();
    const result = await this.db
      .updateTable('calmhub_jobs')
      .set({ locked_until: now + this.leaseMs, updated_at: now })
      .where('id', 'in', ids)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async complete(workerId: string, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .deleteFrom('calmhub_jobs')
      .where('id', 'in', ids)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async fail(
    workerId: string,
    id: number,
    error: string,
    options: { retryAt?: number; permanent?: boolean } = {},
  ): Promise<FailOutcome> {
    const now = this.now();
    const job = await this.db
      .selectFrom('calmhub_jobs')
      .select(['attempts', 'max_attempts'])
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    if (!job) return 'lost';
    const dead = options.permanent === true || job.attempts >= job.max_attempts;
    // A time the remote side asked for (Retry-After) wins over our own backoff, either way.
    const retryAt = options.retryAt ?? now + this.backoff(job.attempts);
    const result = await this.db
      .updateTable('calmhub_jobs')
      .set({
        state: dead ? 'dead' : 'queued',
        run_at: dead ? now : retryAt,
        locked_by: null,
        locked_until: null,
        last_error: error.slice(0, 10_000),
        updated_at: now,
      })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return 'lost';
    return dead ? 'dead' : 'retry';
  }

  async release(workerId: string, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const now = this.now();
    const result = await this.db
      .updateTable('calmhub_jobs')
      .set((eb) => ({
        state: 'queued',
        locked_by: null,
        locked_until: null,
        attempts: eb('attempts', '-', 1),
        updated_at: now,
      }))
      .where('id', 'in', ids)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    const released = Number(result.numUpdatedRows);
    if (released > 0) this.notifyLocal();
    return released;
  }

  async reapExpired(): Promise<number> {
    const now = this.now();
    const result = await this.db
      .updateTable('calmhub_jobs')
      .set((eb) => ({
        state: eb
          .case()
          .when('attempts', '>=', eb.ref('max_attempts'))
          .then('dead')
          .else('queued')
          .end()
          .$castTo<JobState>(),
        locked_by: null,
        locked_until: null,
        last_error: 'lease expired: the worker stopped without completing the job',
        updated_at: now,
      }))
      .where('state', '=', RUNNING)
      .where('locked_until', '<', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async runStep<T>(jobId: number, name: string, run: () => Promise<T> | T): Promise<T> {
    const memo = await this.readStep(this.db, jobId, name);
    if (memo) return memo.value as T;
    const value = await run();
    await this.db
      .insertInto('calmhub_job_steps')
      .values({ job_id: jobId, name, result: writeJson({ value }), created_at: this.now() })
      .onConflict((oc) => oc.columns(['job_id', 'name']).doNothing())
      .execute();
    return value;
  }

  async runTransactionalStep<T>(jobId: number, name: string, run: (trx: Executor) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const memo = await this.readStep(trx, jobId, name);
      if (memo) return memo.value as T;
      const value = await run(trx);
      await trx
        .insertInto('calmhub_job_steps')
        .values({ job_id: jobId, name, result: writeJson({ value }), created_at: this.now() })
        .execute();
      return value;
    });
  }

  private async readStep(
    db: Kysely<JobTables>,
    jobId: number,
    name: string,
  ): Promise<{ value: unknown } | undefined> {
    const row = await db
      .selectFrom('calmhub_job_steps')
      .select('result')
      .where('job_id', '=', jobId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? readJson<{ value: unknown }>(row.result) : undefined;
  }

  async defineSchedule(spec: ScheduleSpec): Promise<void> {
    if (!(spec.everyMs >= 1000)) throw new RangeError(`schedule ${spec.name}: everyMs must be at least 1000`);
    const now = this.now();
    const values = {
      name: spec.name,
      every_ms: spec.everyMs,
      next_run_at: firstPeriodStart(now, spec.everyMs),
      job_name: spec.job.name,
      payload: writeJson(spec.job.payload ?? {}),
      updated_at: now,
    };
    await this.db
      .insertInto('calmhub_schedules')
      .values(values)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          job_name: values.job_name,
          payload: values.payload,
          updated_at: now,
          // A changed interval re-aligns; an unchanged one keeps its place in the period.
          every_ms: values.every_ms,
          next_run_at: (eb) =>
            eb
              .case()
              .when('calmhub_schedules.every_ms', '=', values.every_ms)
              .then(eb.ref('calmhub_schedules.next_run_at'))
              .else(values.next_run_at)
              .end(),
        }),
      )
      .execute();
  }

  async fireDueSchedules(): Promise<number> {
    const now = this.now();
    const due = await this.db
      .selectFrom('calmhub_schedules')
      .selectAll()
      .where('next_run_at', '<=', now)
      .execute();
    let fired = 0;
    for (const schedule of due) {
      // Skip periods missed while nothing ran: one job for the current period, not a burst.
      const periodStart =
        schedule.next_run_at +
        Math.floor((now - schedule.next_run_at) / schedule.every_ms) * schedule.every_ms;
      const won = await this.db.transaction().execute(async (trx) => {
        const swapped = await trx
          .updateTable('calmhub_schedules')
          .set({ next_run_at: periodStart + schedule.every_ms, updated_at: now })
          .where('name', '=', schedule.name)
          .where('next_run_at', '=', schedule.next_run_at)
          .executeTakeFirst();
        if (Number(swapped.numUpdatedRows) !== 1) return false;
        await this.enqueue(
          {
            name: schedule.job_name,
            payload: { ...readJson<object>(schedule.payload), scheduledFor: periodStart },
            dedupeKey: `schedule:${schedule.name}:${periodStart}`,
          },
          trx,
        );
        return true;
      });
      if (won) fired++;
    }
    if (fired > 0) this.notifyLocal();
    return fired;
  }

  async get(id: number): Promise<Job | undefined> {
    const row = (await this.db
      .selectFrom('calmhub_jobs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()) as Row | undefined;
    return row ? toJob(row) : undefined;
  }

  async list(filter: { state?: Job['state']; name?: string; limit?: number } = {}): Promise<Job[]> {
    let query = this.db
      .selectFrom('calmhub_jobs')
      .selectAll()
      .orderBy('id')
      .limit(filter.limit ?? 100);
    if (filter.state) query = query.where('state', '=', filter.state);
    if (filter.name) query = query.where('name', '=', filter.name);
    return ((await query.execute()) as Row[]).map(toJob);
  }

  async nextRunAt(names?: readonly string[]): Promise<number | undefined> {
    if (names?.length === 0) return undefined;
    let query = this.db
      .selectFrom('calmhub_jobs')
      .select((eb) => eb.fn.min('run_at').as('next'))
      .where('state', '=', QUEUED);
    if (names) query = query.where('name', 'in', names);
    const row = await query.executeTakeFirst();
    const next = row?.next;
    return next === null || next === undefined ? undefined : Number(next);
  }

  async close(): Promise<void> {
    this.wake.removeAllListeners();
  }
}

function firstPeriodStart(now: number, everyMs: number): number {
  return Math.ceil(now / everyMs) * everyMs;
}

function toJob(row: Row): Job {
  return {
    id: Number(row.id),
    name: row.name,
    payload: readJson(row.payload),
    orderingKey: row.ordering_key,
    priority: row.priority,
    runAt: Number(row.run_at),
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until === null ? null : Number(row.locked_until),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
  };
}
