import type { Generated, Kysely, Transaction } from 'kysely';
import type { Dialect } from '../store/store.js';

export type JobsTable = {
  id: Generated<number>;
  name: string;
  payload: unknown;
  dedupe_key: string | null;
  ordering_key: string | null;
  priority: number;
  run_at: number;
  state: JobState;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
};

export type JobStepsTable = {
  job_id: number;
  name: string;
  result: unknown;
  created_at: number;
};

export type SchedulesTable = {
  name: string;
  every_ms: number;
  next_run_at: number;
  job_name: string;
  payload: unknown;
  updated_at: number;
};

export type JobTables = {
  calmhub_jobs: JobsTable;
  calmhub_job_steps: JobStepsTable;
  calmhub_schedules: SchedulesTable;
};

/** Completed jobs are deleted; dead ones stay with their payload and last error. */
export type JobState = 'queued' | 'running' | 'dead';

export interface JobSpec<P = unknown> {
  name: string;
  payload?: P;
  /** While a job with this key waits to start, enqueueing the same key again is a no-op. */
  dedupeKey?: string;
  /** Jobs sharing an ordering key run one at a time, in enqueue order. */
  orderingKey?: string;
  /** Epoch ms; defaults to now. */
  runAt?: number;
  /** Higher runs first. */
  priority?: number;
  maxAttempts?: number;
}

export interface Job<P = unknown> {
  id: number;
  name: string;
  payload: P;
  orderingKey: string | null;
  priority: number;
  runAt: number;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  lockedUntil: number | null;
  lastError: string | null;
  createdAt: number;
}

export type FailOutcome = 'retry' | 'dead' | 'lost';

export interface ScheduleSpec {
  name: string;
  everyMs: number;
  job: { name: string; payload?: unknown };
}

// biome-ignore lint/suspicious/noExplicitAny: a transaction over the caller's own tables
export type Executor = Kysely<any> | Transaction<any>;

/**
 * A durable job queue over the store. SQLite and PostgreSQL implement it with the same
 * semantics; they differ only in how claims lock rows and how idle workers are woken.
 */
export interface JobQueue {
  readonly dialect: Dialect;
  /** `executor` enqueues inside the caller's transaction, so the job exists iff the caller commits. */
  enqueue(spec: JobSpec, executor?: Executor): Promise<{ id: number; created: boolean }>;
  enqueueMany(specs: JobSpec[], executor?: Executor): Promise<number>;
  /**
   * The statement that enqueues `specs` (at most 500), for a caller running its own statements in
   * its own transaction (a synchronous SQLite one); `enqueued()` once that has committed wakes the
   * idle workers.
   */
  enqueueStatement(specs: JobSpec[]): { sql: string; parameters: unknown[] };
  enqueued(): void;
  claim(workerId: string, limit: number, names?: readonly string[]): Promise<Job[]>;
  heartbeat(workerId: string, ids: readonly number[]): Promise<number>;
  complete(workerId: string, ids: readonly number[]): Promise<number>;
  fail(
    workerId: string,
    id: number,
    error: string,
    options?: { retryAt?: number; permanent?: boolean },
  ): Promise<FailOutcome>;
  /** Gives claimed jobs back without counting the attempt (shutdown). */
  release(workerId: string, ids: readonly number[]): Promise<number>;
  /** Requeues running jobs whose lease expired (their worker died); dead once out of attempts. */
  reapExpired(): Promise<number>;
  /** Returns the memoised result of a step, or runs it and stores the result. */
  runStep<T>(jobId: number, name: string, run: () => Promise<T> | T): Promise<T>;
  /** Like runStep, but the step's writes and its memo commit in one transaction: exactly once. */
  runTransactionalStep<T>(jobId: number, name: string, run: (trx: Executor) => Promise<T>): Promise<T>;
  defineSchedule(spec: ScheduleSpec): Promise<void>;
  /** Enqueues one job per due schedule period; safe to call from many workers at once. */
  fireDueSchedules(): Promise<number>;
  get(id: number): Promise<Job | undefined>;
  list(filter?: { state?: JobState; name?: string; limit?: number }): Promise<Job[]>;
  /** Earliest `run_at` among queued jobs, to know how long an idle worker may sleep. */
  nextRunAt(names?: readonly string[]): Promise<number | undefined>;
  /** Called when new jobs may be available; returns an unsubscribe function. */
  onWake(listener: () => void): () => void;
  close(): Promise<void>;
}
