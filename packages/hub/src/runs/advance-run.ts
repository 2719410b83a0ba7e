import { type JobContext, RetryJobError } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, systemAudit } from '../audit/record-audit.js';
import type { AuditKind } from '../audit/types.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import type { PipelineTask } from '../pipelines/definition.js';
import { loadPipelineVersion } from '../pipelines/load-pipeline.js';
import type { CalmStoriesTable } from '../store/tables.js';
import { enqueueWriteBack } from '../writeback/enqueue-write-back.js';
import { setFeatureStatusJob } from './jobs.js';
import {
  appendTaskLog,
  type Db,
  recordRunEvent,
  runById,
  runSubject,
  taskOfStage,
  tasksOf,
  updateTask,
} from './run-store.js';
import type { PipelineRunsTable, RunState, RunTasksTable } from './tables.js';
import { runApprovalTask } from './tasks/approval.js';
import { runCloudIntegrationDeployment } from './tasks/deploy-cloud-integration.js';
import { runCtmsDeployment } from './tasks/deploy-ctms.js';
import { RunStopped, type TaskContext, type TaskDeps, type TaskOutcome } from './tasks/task-context.js';
import { runValidationTask } from './tasks/validation.js';

type Deps = TaskDeps;

const SYSTEM = systemAudit('pipeline', 'calmhub pipeline');

function runTask(context: TaskContext): Promise<TaskOutcome> {
  const task = context.task;
  switch (task.type) {
    case 'approval':
      return runApprovalTask({ ...context, task });
    case 'validation':
      return runValidationTask({ ...context, task });
    case 'deployment':
      return task.kind === 'cpi_deploy'
        ? runCloudIntegrationDeployment({ ...context, task })
        : runCtmsDeployment({ ...context, task });
  }
}

/**
 * The run's job: runs its tasks in order until the run passes, fails or waits for an approval.
 * Each task's outcome commits with its timeline event and audit entry; deployment side effects
 * are memoised steps (per task attempt), so a job resumed after a crash does not repeat them.
 */
export async function advanceRun(
  deps: Deps,
  runId: string,
  job: Pick<JobContext, 'step' | 'signal' | 'job'>,
): Promise<void> {
  for (;;) {
    const run = await runById(deps.db, runId);
    // A waiting run is looked at again: an approval may have come while its task was judged.
    if (run?.state !== 'running' && run?.state !== 'waiting') return;
    const subject = await runSubject(deps.db, run);
    if (!subject) {
      await deps.db
        .transaction()
        .execute((trx) =>
          finishRun(deps, trx, run, 'failed', 'The pipeline version or the story of this run is gone'),
        );
      return;
    }
    const { definition, stage, story } = subject;
    const rows = await tasksOf(deps.db, run.id);
    const row = rows.find((t) => t.state === 'pending' || t.state === 'running' || t.state === 'waiting');
    if (!row) {
      await deps.db
        .transaction()
        .execute((trx) => finishRun(deps, trx, run, 'passed', `${stage.name} passed`));
      return;
    }
    const task = taskOfStage(stage, row.task_key);
    if (!task) {
      await deps.db
        .transaction()
        .execute((trx) =>
          finishRun(
            deps,
            trx,
            run,
            'failed',
            `Task ${row.task_key} is not in pipeline version ${run.pipeline_version}`,
          ),
        );
      return;
    }
    if (row.state === 'pending') {
      const now = deps.clock.now();
      await deps.db.transaction().execute(async (trx) => {
        if (
          await updateTask(trx, row, { state: 'running', from: ['pending'], startedAt: now, endedAt: null })
        )
          await recordRunEvent(trx, run, {
            at: now,
            kind: 'task',
            taskKey: row.task_key,
            state: 'running',
            actor: 'calmhub',
            message: `${row.name} started`,
          });
      });
    }
    let outcome: TaskOutcome;
    try {
      outcome = await runTask(
        taskContext(deps, run, { ...row, state: 'running' }, task, definition, stage, story, job),
      );
    } catch (error) {
      if (error instanceof RunStopped) return;
      // Retried while the job has attempts left; the last one fails the task instead of leaving
      // the run running with no job behind it.
      const attemptsLeft = job.job.attempts < job.job.maxAttempts;
      if (error instanceof RemoteCallError && error.retryable && attemptsLeft) {
        await appendTaskLog(deps.db, row, [
          { at: deps.clock.now(), level: 'warn', message: `${error.message}; trying again` },
        ]);
        throw new RetryJobError(error.message, error.retryAt);
      }
      const message = error instanceof Error ? error.message : String(error);
      outcome = { state: 'failed', message: `${row.name} failed: ${message}` };
    }
    const stop = await deps.db.transaction().execute((trx) => settleTask(deps, trx, run, row, task, outcome));
    if (stop) return;
  }
}

function taskContext(
  deps: Deps,
  run: PipelineRunsTable,
  row: RunTasksTable,
  task: PipelineTask,
  definition: TaskContext['definition'],
  stage: TaskContext['stage'],
  story: CalmStoriesTable,
  job: Pick<JobContext, 'step' | 'signal'>,
): TaskContext {
  return {
    deps,
    run,
    row,
    task,
    stage,
    definition,
    story,
    signal: job.signal,
    step: (name, fn) => job.step(`${row.task_key}#${row.attempt}:${name}`, fn),
    log: (level, message) => appendTaskLog(deps.db, row, [{ at: deps.clock.now(), level, message }]),
    async checkStillRunning() {
      const current = await runById(deps.db, run.id);
      if (current?.state !== 'running') throw new RunStopped(`run ${run.id} is ${current?.state ?? 'gone'}`);
    },
  };
}

/** Records a task's outcome; true when the run stops here (waits, fails, or was stopped). */
async function settleTask(
  deps: Deps,
  trx: Db,
  run: PipelineRunsTable,
  row: RunTasksTable,
  task: PipelineTask,
  outcome: TaskOutcome,
): Promise<boolean> {
  const current = await runById(trx, run.id);
  if (current?.state !== 'running' && current?.state !== 'waiting') return true;
  const now = deps.clock.now();
  const terminal = outcome.state !== 'waiting';
  const changed = await updateTask(trx, row, {
    state: outcome.state,
    from: ['running', 'waiting'],
    result: outcome.result,
    ...(terminal ? { endedAt: now } : {}),
  });
  if (!changed) return true;
  await recordRunEvent(trx, run, {
    at: now,
    kind: 'task',
    taskKey: row.task_key,
    state: outcome.state,
    actor: 'calmhub',
    message: outcome.message,
  });
  const story = { kind: 'run', id: run.id, label: `${run.stage_key} ${row.name}` };
  if (outcome.state === 'waiting') {
    // Said once per wait, not on every re-check after an approval that did not complete it.
    if (row.state !== 'waiting')
      await recordAudit(trx, {
        ...SYSTEM,
        tenantId: run.tenant_id,
        projectId: run.project_id,
        occurredAt: now,
        kind: 'run.task_waiting',
        object: story,
        after: { task: row.task_key, message: outcome.message },
      });
    await setRunState(trx, run, 'waiting', now);
    return true;
  }
  if (current.state === 'waiting') await setRunState(trx, run, 'running', now);
  await recordAudit(trx, {
    ...SYSTEM,
    tenantId: run.tenant_id,
    projectId: run.project_id,
    occurredAt: now,
    kind: outcome.state === 'passed' ? 'run.task_passed' : 'run.task_failed',
    object: story,
    after: { task: row.task_key, type: row.type, message: outcome.message, result: outcome.result },
  });
  if (outcome.state === 'passed' && task.type === 'deployment')
    await enqueueWriteBack(deps, trx, {
      tenantId: run.tenant_id,
      storyId: run.story_id,
      action: 'deployment.done',
      text: `calmhub: ${outcome.message}`,
    });
  const continues = task.type === 'validation' && task.continueOnFailure === true;
  if (outcome.state === 'failed' && !continues) {
    await finishRun(deps, trx, run, 'failed', outcome.message);
    return true;
  }
  return false;
}

async function setRunState(trx: Db, run: PipelineRunsTable, state: RunState, now: number): Promise<void> {
  await trx
    .updateTable('hub_pipeline_runs')
    .set({
      state,
      updated_at: now,
      ...(state === 'passed' || state === 'failed' || state === 'aborted' ? { ended_at: now } : {}),
    })
    .where('id', '=', run.id)
    .execute();
  await trx
    .updateTable('hub_story_stages')
    .set({ state, updated_at: now })
    .where('story_id', '=', run.story_id)
    .where('run_id', '=', run.id)
    .execute();
}

const FINISH_AUDIT: Record<'passed' | 'failed' | 'aborted', AuditKind> = {
  passed: 'run.passed',
  failed: 'run.failed',
  aborted: 'run.aborted',
};

/** Ends a run: its state, the story's stage, the timeline, the audit log, the write-back. */
export async function finishRun(
  deps: Pick<HubDeps, 'queue' | 'clock' | 'publicBaseUrl' | 'db' | 'config'>,
  trx: Db,
  run: PipelineRunsTable,
  state: 'passed' | 'failed' | 'aborted',
  message: string,
  actor: { label: string; audit: typeof SYSTEM } = { label: 'calmhub', audit: SYSTEM },
): Promise<void> {
  const now = deps.clock.now();
  await setRunState(trx, run, state, now);
  await recordRunEvent(trx, run, { at: now, kind: 'run', state, actor: actor.label, message });
  await recordAudit(trx, {
    ...actor.audit,
    tenantId: run.tenant_id,
    projectId: run.project_id,
    occurredAt: now,
    kind: FINISH_AUDIT[state],
    object: { kind: 'run', id: run.id, label: run.stage_key },
    after: { state, stage: run.stage_key, storyId: run.story_id, message },
  });
  await enqueueWriteBack(deps, trx, {
    tenantId: run.tenant_id,
    storyId: run.story_id,
    action: state === 'passed' ? 'stage.passed' : 'stage.failed',
    text: `calmhub: ${message}.`,
  });
  if (run.promotion_request_id)
    await trx
      .updateTable('hub_promotion_requests')
      .set({ state: state === 'passed' ? 'done' : state === 'aborted' ? 'cancelled' : 'started' })
      .where('id', '=', run.promotion_request_id)
      .execute();
  if (state === 'passed') {
    const version = await loadPipelineVersion(trx, run.tenant_id, run.pipeline_id, run.pipeline_version);
    if (version?.definition.stages[run.stage_index]?.featureStatusOnPass)
      await deps.queue.enqueue(setFeatureStatusJob(run.id), trx);
  }
}
