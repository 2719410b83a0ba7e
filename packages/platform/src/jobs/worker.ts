import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Executor, Job, JobQueue } from './types.js';

/** Throw to retry at a time the remote side asked for (e.g. from `Retry-After`). */
export class RetryJobError extends Error {
  override name = 'RetryJobError';
  constructor(
    message: string,
    readonly retryAt?: number,
  ) {
    super(message);
  }
}

/** Throw when retrying cannot help (a 4xx from a remote, invalid payload): the job goes dead. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface JobContext<P = unknown> {
  job: Job<P>;
  /** Aborted when shutdown gives up waiting for this job; the job is then released, not failed. */
  signal: AbortSignal;
  logger: Logger | undefined;
  /** Runs `fn` once per job across retries and crashes; later runs get the stored result. */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** Like step, but `fn`'s writes commit atomically with the memo: the effect happens exactly once. */
  transactionalStep<T>(name: string, fn: (trx: Executor) => Promise<T>): Promise<T>;
}

// biome-ignore lint/suspicious/noExplicitAny: handlers narrow their own payload type
export type JobHandler<P = any> = (payload: P, context: JobContext<P>) => Promise<void>;

export interface WorkerOptions {
  queue: JobQueue & { readonly leaseMs: number };
  handlers: Record<string, JobHandler>;
  concurrency?: number;
  /**
   * Jobs claimed per query (default: `concurrency`). A larger batch keeps the surplus leased
   * in a local buffer and starts it as slots free, saving a round trip per job.
   */
  batchSize?: number;
  pollIntervalMs?: number;
  workerId?: string;
  logger?: Logger;
}

export class JobWorker {
  readonly id: string;
  private readonly queue: WorkerOptions['queue'];
  private readonly handlers: Record<string, JobHandler>;
  private readonly names: string[];
  private readonly concurrency: number;
  private readonly batchSize: number;
  /** Claimed (and leased) jobs waiting for a free slot, in claim order. */
  private readonly buffered: Job[] = [];
  private readonly pollIntervalMs: number;
  private readonly logger: Logger | undefined;
  private readonly active = new Map<number, { done: Promise<void>; abort: AbortController }>();
  private readonly completed: number[] = [];
  private flushing: Promise<void> | undefined;
  private stopping = false;
  private wakePending = false;
  private wakeSleeper: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private lastMaintenance = 0;

  constructor(options: WorkerOptions) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.queue = options.queue;
    this.handlers = options.handlers;
    this.names = Object.keys(options.handlers);
    this.concurrency = options.concurrency ?? 10;
    this.batchSize = Math.max(this.concurrency, options.batchSize ?? this.concurrency);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.logger = options.logger?.child({ worker: this.id });
  }

  get activeCount(): number {
    return this.active.size;
  }

  start(): void {
    if (this.loopDone) return;
    this.unsubscribe = this.queue.onWake(() => this.wakeUp());
    this.heartbeatTimer = setInterval(
      () => void this.heartbeat(),
      Math.max(250, Math.floor(this.queue.leaseMs / 3)),
    );
    this.heartbeatTimer.unref();
    this.loopDone = this.loop();
  }

  /** Stops claiming, waits up to `timeoutMs` for running jobs, then releases the rest. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wakeUp();
    await this.loopDone;
    const running = [...this.active.values()].map((entry) => entry.done);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    const unfinished = [...this.active.keys(), ...this.buffered.splice(0).map((job) => job.id)];
    for (const entry of this.active.values()) entry.abort.abort();
    await this.flushCompleted();
    if (unfinished.length > 0) {
      const released = await this.queue.release(this.id, unfinished).catch(() => 0);
      this.logger?.info({ released }, 'released unfinished jobs');
    }
    clearInterval(this.heartbeatTimer);
    this.unsubscribe?.();
  }

  private wakeUp(): void {
    this.wakePending = true;
    this.wakeSleeper?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      // better-sqlite3 answers synchronously, so without this the loop could run on
      // microtasks alone and starve timers, I/O and the HTTP server sharing this process.
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        await this.maintain();
        this.startBuffered();
        const free = this.concurrency - this.active.size;
        if (free === 0 || this.buffered.length > 0) {
          // Only a finishing job can change anything now; new-job wake-ups must not spin us.
          await this.sleep(this.pollIntervalMs, { ignorePendingWake: true });
          continue;
        }
        this.wakePending = false;
        const jobs = await this.queue.claim(this.id, this.batchSize, this.names);
        this.buffered.push(...jobs);
        this.startBuffered();
        if (jobs.length === this.batchSize) continue;
        await this.sleep(await this.idleDelay());
      } catch (error) {
        this.logger?.error({ err: error }, 'job loop error; retrying after the poll interval');
        await this.sleep(this.pollIntervalMs);
      }
    }
  }

  /** Reaps expired leases and fires due schedules, at most once per poll interval. */
  private async maintain(): Promise<void> {
    const now = Date.now();
    if (now - this.lastMaintenance < this.pollIntervalMs) return;
    this.lastMaintenance = now;
    await this.queue.reapExpired();
    await this.queue.fireDueSchedules();
  }

  /**
   * How long to sleep when a claim came back short. A due job that was not claimed waits
   * behind its ordering key; the job ahead of it wakes us when it finishes.
   */
  private async idleDelay(): Promise<number> {
    const next = await this.queue.nextRunAt(this.names);
    const wait = next === undefined ? this.pollIntervalMs : next - Date.now();
    return wait <= 0 ? this.pollIntervalMs : Math.min(this.pollIntervalMs, wait);
  }

  private sleep(ms: number, options: { ignorePendingWake?: boolean } = {}): Promise<void> {
    if ((this.wakePending && !options.ignorePendingWake) || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = () => {
        this.wakeSleeper = undefined;
        done();
      };
    });
  }

  private startBuffered(): void {
    while (!this.stopping && this.active.size < this.concurrency && this.buffered.length > 0) {
      this.run(this.buffered.shift() as Job);
    }
  }

  private run(job: Job): void {
    const abort = new AbortController();
    const done = this.execute(job, abort.signal).finally(() => {
      this.active.delete(job.id);
      // Hand the slot to a buffered job at once; the loop is only needed when none is left.
      this.startBuffered();
      this.wakeUp();
    });
    this.active.set(job.id, { done, abort });
  }

  private async execute(job: Job, signal: AbortSignal): Promise<void> {
    const handler = this.handlers[job.name];
    const context: JobContext = {
      job,
      signal,
      logger: this.logger?.child({ jobId: job.id, job: job.name, attempt: job.attempts }),
      step: (name, fn) => this.queue.runStep(job.id, name, fn),
      transactionalStep: (name, fn) => this.queue.runTransactionalStep(job.id, name, fn),
    };
    try {
      if (!handler) throw new PermanentJobError(`no handler for job "${job.name}"`);
      await handler(job.payload, context);
      this.completed.push(job.id);
      await this.flushCompleted();
    } catch (error) {
      if (signal.aborted) return; // released by stop()
      const message = error instanceof Error ? error.message : String(error);
      const outcome = await this.queue.fail(this.id, job.id, message, {
        ...(error instanceof RetryJobError && error.retryAt !== undefined ? { retryAt: error.retryAt } : {}),
        permanent: error instanceof PermanentJobError,
      });
      context.logger?.[outcome === 'dead' ? 'error' : 'warn']({ err: error, outcome }, 'job failed');
    }
  }

  /** Completions that finish in the same tick share one DELETE (group commit). */
  private flushCompleted(): Promise<void> {
    if (!this.flushing) {
      this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        const ids = this.completed.splice(0);
        this.flushing = undefined;
        if (ids.length > 0) await this.queue.complete(this.id, ids);
      });
    }
    return this.flushing;
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.active.keys(), ...this.buffered.map((job) => job.id)];
    if (ids.length === 0) return;
    try {
      await this.queue.heartbeat(this.id, ids);
    } catch (error) {
      this.logger?.warn({ err: error }, 'heartbeat failed');
    }
  }
}
