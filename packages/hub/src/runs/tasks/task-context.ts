import type { HubDeps } from '../../app/deps.js';
import type { PipelineDefinition, PipelineStage, PipelineTask } from '../../pipelines/definition.js';
import type { CalmStoriesTable } from '../../store/tables.js';
import type { LogLine } from '../run-store.js';
import type { PipelineRunsTable, RunTasksTable } from '../tables.js';

export type TaskDeps = Pick<
  HubDeps,
  'db' | 'store' | 'queue' | 'clock' | 'secrets' | 'connectors' | 'logger' | 'publicBaseUrl' | 'config'
>;

/** What a task runner gets: the run, its task row and definition, and memoised steps. */
export interface TaskContext<T extends PipelineTask = PipelineTask> {
  deps: TaskDeps;
  run: PipelineRunsTable;
  row: RunTasksTable;
  task: T;
  stage: PipelineStage;
  definition: PipelineDefinition;
  story: CalmStoriesTable;
  /** Runs `fn` once per task attempt across crashes and retries of the job; later calls get the memo. */
  step<R>(name: string, fn: () => Promise<R>): Promise<R>;
  /** Appends a line to the task's log at once (the log is readable while the task runs). */
  log(level: LogLine['level'], message: string): Promise<void>;
  /** Throws RunStopped when the run was aborted meanwhile: long polls call it between polls. */
  checkStillRunning(): Promise<void>;
  signal: AbortSignal;
}

export interface TaskOutcome {
  state: 'passed' | 'failed' | 'waiting';
  /** One line for the timeline and the write-back. */
  message: string;
  result?: unknown;
}

/** The run stopped (aborted) while a task ran: the task's outcome is dropped. */
export class RunStopped extends Error {
  override name = 'RunStopped';
}

/** Waits `ms`, or less when the job is being shut down. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
