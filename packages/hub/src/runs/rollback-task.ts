import type { JobContext } from '@calmhub/platform';
import { recordAudit, systemAudit } from '../audit/record-audit.js';
import type { DeploymentTask } from '../pipelines/definition.js';
import { appendTaskLog, recordRunEvent, runById, runSubject, taskOf, taskOfStage } from './run-store.js';
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
  const subject = await runSubject(deps.db, run);
  const task = subject && taskOfStage(subject.stage, row.task_key);
  const credentialName = subject?.stage.targets?.cloudIntegration?.credential;
  if (!subject || task?.type !== 'deployment' || !credentialName) return;
  const { definition, stage, story } = subject;
  const target = deps.connectors.cloudIntegration(
    await targetCredential(deps, run.tenant_id, run.project_id, credentialName),
  );
  const context: TaskContext<DeploymentTask> = {
    deps,
    run,
    row,
    task,
    stage,
    definition,
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
