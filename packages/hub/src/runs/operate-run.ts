import { AppError, writeJson } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { forbidden, notFound, requireProjectAction, roleInProject } from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import { finishRun } from './advance-run.js';
import { advanceRunJob, rollbackTaskJob } from './jobs.js';
import {
  type Db,
  findRun,
  recordRunEvent,
  runSubject,
  taskOf,
  taskOfStage,
  tasksOf,
  updateTask,
} from './run-store.js';
import { componentEvidence, storyDevelopers } from './story-developers.js';
import type { PipelineRunsTable } from './tables.js';

type Deps = Pick<HubDeps, 'db' | 'store' | 'queue' | 'clock' | 'publicBaseUrl' | 'config'>;

/** A run of the caller's tenant, after checking `action` in its project (404 when not visible). */
export async function loadRun(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<PipelineRunsTable> {
  const run = await findRun(deps.db, actor.tenantId, id);
  if (!run) throw notFound('run', id);
  try {
    await requireProjectAction(deps.db, actor, run.project_id, action);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') throw notFound('run', id);
    throw error;
  }
  return run;
}

async function setRunning(trx: Db, run: PipelineRunsTable, now: number): Promise<void> {
  await trx
    .updateTable('hub_pipeline_runs')
    .set({ state: 'running', updated_at: now, ended_at: null })
    .where('id', '=', run.id)
    .execute();
  await trx
    .updateTable('hub_story_stages')
    .set({ state: 'running', updated_at: now })
    .where('story_id', '=', run.story_id)
    .where('run_id', '=', run.id)
    .execute();
}

export interface ApprovalInput {
  decision: 'approve' | 'reject';
  comment: string;
  taskKey?: string | undefined;
}

/**
 * An approver's decision on the run's waiting approval task. Segregation of duties: the promoter
 * and the story's developers may not decide; every decision keeps its evidence (who, role, when,
 * the components and versions approved).
 */
export async function decideApproval(
  deps: Deps,
  actor: Actor,
  runId: string,
  input: ApprovalInput,
  requestId: string,
): Promise<PipelineRunsTable> {
  const run = await loadRun(deps, actor, runId, 'runs.approve');
  const rows = await tasksOf(deps.db, run.id);
  // An approval may come before the run reaches its task (right after the promotion): it is
  // recorded, and the task counts it when it runs.
  const undecided = (t: { type: string; state: string }) =>
    t.type === 'approval' && (t.state === 'pending' || t.state === 'running' || t.state === 'waiting');
  const row = input.taskKey
    ? rows.find((t) => t.task_key === input.taskKey && undecided(t))
    : rows.find(undecided);
  if (!row || (run.state !== 'waiting' && run.state !== 'running'))
    throw new AppError(
      'conflict',
      `Run ${run.id} (${run.state}) has no approval to decide${input.taskKey ? ` at ${input.taskKey}` : ''}`,
    );
  const subject = await runSubject(deps.db, run);
  const task = subject && taskOfStage(subject.stage, row.task_key);
  const story = subject?.story;
  if (task?.type !== 'approval' || !story)
    throw new AppError('conflict', `Run ${run.id} cannot be approved any more`);

  if (run.requested_by === actor.userId)
    throw forbidden('runs.approve', 'segregation of duties: you promoted this story');
  const why = (await storyDevelopers(deps.db, story)).get(actor.userId);
  if (why)
    throw forbidden('runs.approve', `segregation of duties: you are a developer of this story (${why})`);

  const role = await roleInProject(deps.db, actor, run.project_id);
  const byUser = (task.users ?? []).some((u) => u.toLowerCase() === actor.email.toLowerCase());
  const byRole = role !== undefined && (task.roles ?? []).includes(role === 'tenant_admin' ? 'admin' : role);
  const open = (task.users ?? []).length === 0 && (task.roles ?? []).length === 0;
  if (!byUser && !byRole && !open)
    throw forbidden('runs.approve', `you are not an approver of "${task.name}"`);
  const now = deps.clock.now();
  const evidence = {
    components: await componentEvidence(deps.db, story),
    pipelineVersion: run.pipeline_version,
  };
  const decision = input.decision === 'approve' ? 'approved' : 'rejected';
  return deps.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('hub_run_approvals')
      .values({
        run_id: run.id,
        task_key: row.task_key,
        attempt: row.attempt,
        user_id: actor.userId,
        tenant_id: run.tenant_id,
        email: actor.email,
        role: role ?? 'none',
        decision,
        comment: input.comment,
        evidence: writeJson(evidence),
        decided_at: now,
      })
      .onConflict((oc) => oc.columns(['run_id', 'task_key', 'attempt', 'user_id']).doNothing())
      .returning('user_id')
      .executeTakeFirst();
    if (!inserted) throw new AppError('conflict', `You decided on "${task.name}" of run ${run.id} already`);
    await recordRunEvent(trx, run, {
      at: now,
      kind: 'task',
      taskKey: row.task_key,
      state: 'waiting',
      actor: actor.email,
      message: `${decision === 'approved' ? 'Approved' : 'Rejected'} by ${actor.email}${input.comment ? `: ${input.comment}` : ''}`,
    });
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: run.tenant_id,
      projectId: run.project_id,
      occurredAt: now,
      kind: decision === 'approved' ? 'run.approved' : 'run.rejected',
      object: { kind: 'run', id: run.id, label: `${run.stage_key} ${task.name}` },
      after: { task: row.task_key, comment: input.comment, role, ...evidence },
    });
    if (run.state === 'waiting') await setRunning(trx, run, now);
    await deps.queue.enqueue(advanceRunJob(run.id), trx);
    return { ...run, state: 'running' as const };
  });
}

/** Runs a failed run's failed task again (a new attempt: deployments reset errored requests first). */
export async function retryRun(
  deps: Deps,
  actor: Actor,
  runId: string,
  requestId: string,
): Promise<PipelineRunsTable> {
  const run = await loadRun(deps, actor, runId, 'runs.operate');
  if (run.state !== 'failed')
    throw new AppError('conflict', `Run ${run.id} is ${run.state}; only a failed run can be retried`);
  const stageRow = await deps.db
    .selectFrom('hub_story_stages')
    .select('run_id')
    .where('story_id', '=', run.story_id)
    .executeTakeFirst();
  if (stageRow?.run_id !== run.id)
    throw new AppError(
      'conflict',
      `Run ${run.id} is not the story's latest run; promote the story again instead`,
    );
  const failed = (await tasksOf(deps.db, run.id)).filter((t) => t.state === 'failed');
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    for (const task of failed)
      await updateTask(trx, task, {
        state: 'pending',
        from: ['failed'],
        attempt: task.attempt + 1,
        endedAt: null,
        log: [{ at: now, level: 'info', message: `Retry (attempt ${task.attempt + 2}) by ${actor.email}` }],
      });
    await setRunning(trx, run, now);
    await recordRunEvent(trx, run, {
      at: now,
      kind: 'run',
      state: 'running',
      actor: actor.email,
      message: `Retried by ${actor.email}`,
    });
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: run.tenant_id,
      projectId: run.project_id,
      occurredAt: now,
      kind: 'run.retried',
      object: { kind: 'run', id: run.id, label: run.stage_key },
      after: { tasks: failed.map((t) => t.task_key) },
    });
    await deps.queue.enqueue(advanceRunJob(run.id), trx);
    return { ...run, state: 'running' as const };
  });
}

/** Stops a running or waiting run; a deployment in flight stops at its next poll. */
export async function abortRun(
  deps: Deps,
  actor: Actor,
  runId: string,
  requestId: string,
): Promise<PipelineRunsTable> {
  const run = await loadRun(deps, actor, runId, 'runs.operate');
  if (run.state !== 'running' && run.state !== 'waiting' && run.state !== 'failed')
    throw new AppError('conflict', `Run ${run.id} is ${run.state}; it cannot be aborted`);
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    await trx
      .updateTable('hub_run_tasks')
      .set({ state: 'aborted', ended_at: now })
      .where('run_id', '=', run.id)
      .where('state', 'in', ['pending', 'running', 'waiting'])
      .execute();
    await finishRun(deps, trx, run, 'aborted', `Run into ${run.stage_key} aborted by ${actor.email}`, {
      label: actor.email,
      audit: userAudit(actor, requestId),
    });
    return { ...run, state: 'aborted' as const, ended_at: now };
  });
}

/** Restores the Cloud Integration versions a deployment task backed up (a job: deploys take time). */
export async function requestRollback(
  deps: Deps,
  actor: Actor,
  runId: string,
  taskKey: string,
  requestId: string,
): Promise<PipelineRunsTable> {
  const run = await loadRun(deps, actor, runId, 'runs.operate');
  const task = await taskOf(deps.db, run.id, taskKey);
  if (task?.type !== 'deployment') throw notFound('deployment task', taskKey);
  const backups = await deps.db
    .selectFrom('hub_cpi_backups')
    .select('artifact_id')
    .where('run_id', '=', run.id)
    .where('task_key', '=', taskKey)
    .execute();
  if (backups.length === 0)
    throw new AppError('conflict', `Task ${taskKey} of run ${run.id} took no backup to roll back to`);
  await deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    await recordRunEvent(trx, run, {
      at: now,
      kind: 'task',
      taskKey,
      state: task.state,
      actor: actor.email,
      message: `Rollback requested by ${actor.email}`,
    });
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: run.tenant_id,
      projectId: run.project_id,
      occurredAt: now,
      kind: 'run.rollback_requested',
      object: { kind: 'run', id: run.id, label: `${run.stage_key} ${task.name}` },
      after: { task: taskKey, artifacts: backups.map((b) => b.artifact_id) },
    });
    await deps.queue.enqueue(rollbackTaskJob(run.id, taskKey, actor.email), trx);
  });
  return run;
}
