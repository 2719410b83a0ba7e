import type { JobContext } from '@calmhub/platform';
import { recordAudit, systemAudit } from '../audit/record-audit.js';
import { type DeploymentTask, orderedTasks } from '../pipelines/definition.js';
import { loadPipelineVersion } from '../pipelines/load-pipeline.js';
import { appendTaskLog, recordRunEvent, runById, taskOf } from './run-store.js';
import { targetCredential } from './targets.js';
import { type DeployOutcome, restoreBackup } from './tasks/deploy-cloud-integration.js';
import type { TaskContext, TaskDeps } from './tasks/task-context.js';

/** The rollback job: deploys every backup a Cloud Integration task took, then records the outcome. */
export async function rollbackTask(
  deps: TaskDeps,
  payload: { runId: string; taskKey: string; requestedBy: string },
  job: Pick<JobContext, 'step' | 'signal' | 'job'>,
): Promise<void> {
  const run = await runById(deps.db, payload.runId);
  const row = run ? await taskOf(deps.db, run.id, payload.taskKey) : undefined;
  if (!run || !row) return;
  const version = await loadPipelineVersion(deps.db, run.tenant_id, run.pipeline_id, run.pipeline_version);
  const stage = version?.definition.stages[run.stage_index];
  const task = stage ? orderedTasks(stage).find((t) => t.key === row.task_key)?.task : undefined;
  const credentialName = stage?.targets?.cloudIntegration?.credential;
  const story = await deps.db
    .selectFrom('hub_calm_stories')
    .selectAll()
    .where('id', '=', run.story_id)
    .executeTakeFirst();
  if (!version || !stage || task?.type !== 'deployment' || !credentialName || !story) return;
  const target = deps.connectors.cloudIntegration(
    await targetCredential(deps, run.tenant_id, run.project_id, credentialName),
  );
  const context: TaskContext<DeploymentTask> = {
    deps,
    run,
    row,
    task,
    stage,
    definition: version.definition,
    story,
    signal: job.signal,
    step: (name, fn) => job.step(name, fn),
    log: (level, message) => appendTaskLog(deps.db, row, [{ at: deps.clock.now(), level, message }]),
    checkStillRunning: async () => {},
  };
  const backups = await deps.db
    .selectFrom('hub_cpi_backups')
    .select(['artifact_id', 'version'])
    .where('run_id', '=', run.id)
    .where('task_key', '=', row.task_key)
    .orderBy('artifact_id')
    .execute();
  const outcomes: Array<DeployOutcome & { artifactId: string; version: string }> = [];
  for (const backup of backups) {
    const outcome = await restoreBackup(context, target, backup.artifact_id, `rollback-${job.job.id}:`);
    outcomes.push({ artifactId: backup.artifact_id, version: backup.version, ...outcome });
  }
  const ok = outcomes.every((o) => o.ok);
  const message = `Rollback ${ok ? 'done' : 'failed'}: ${outcomes
    .map((o) => `${o.artifactId} ${o.version} ${o.ok ? o.runtimeStatus : `(${o.error})`}`)
    .join(', ')}`;
  await deps.db.transaction().execute(async (trx) => {
    await recordRunEvent(trx, run, {
      at: deps.clock.now(),
      kind: 'task',
      taskKey: row.task_key,
      state: row.state,
      actor: payload.requestedBy,
      message,
    });
    await recordAudit(trx, {
      ...systemAudit('pipeline', 'calmhub pipeline'),
      tenantId: run.tenant_id,
      projectId: run.project_id,
      occurredAt: deps.clock.now(),
      kind: ok ? 'run.rolled_back' : 'run.rollback_failed',
      object: { kind: 'run', id: run.id, label: `${run.stage_key} ${row.name}` },
      after: { task: row.task_key, requestedBy: payload.requestedBy, artifacts: outcomes },
    });
  });
}
