import { attachedComponents } from '../../components/store.js';
import { detailsOf } from '../../components/views.js';
import type { CloudIntegrationClient } from '../../connectors/cloud-integration/client.js';
import type { DeploymentTask } from '../../pipelines/definition.js';
import { targetCredential } from '../targets.js';
import { pause, type TaskContext, type TaskDeps, type TaskOutcome } from './task-context.js';

const POLL_LIMIT_MS = 15 * 60_000;

export interface DeployOutcome {
  ok: boolean;
  /** BuildAndDeployStatus's last answer. */
  deployStatus: string;
  runtimeStatus: string | null;
  runtimeVersion: string | null;
  error: string | null;
}

/**
 * Deploys the artifact's active version and polls BuildAndDeployStatus, then the runtime status,
 * until they settle; on failure reads ErrorInformation. `taskId` null: a deploy already ran.
 */
export async function waitForDeployment(
  deps: Pick<TaskDeps, 'clock'>,
  cpi: CloudIntegrationClient,
  artifactId: string,
  taskId: string | null,
  options: { signal: AbortSignal; checkStillRunning?: () => Promise<void> },
): Promise<DeployOutcome> {
  const started = deps.clock.now();
  let wait = 250;
  let deployStatus = taskId === null ? 'SUCCESS' : 'DEPLOYING';
  for (;;) {
    if (taskId !== null && deployStatus === 'DEPLOYING')
      deployStatus = await cpi.buildAndDeployStatus(taskId);
    const runtime = deployStatus === 'DEPLOYING' ? undefined : await cpi.runtimeArtifact(artifactId);
    const settled =
      deployStatus.startsWith('FAIL') ||
      (runtime !== undefined && runtime.status !== 'STARTING' && runtime.status !== 'DEPLOYING');
    if (settled) {
      const ok = !deployStatus.startsWith('FAIL') && runtime?.status === 'STARTED';
      return {
        ok,
        deployStatus,
        runtimeStatus: runtime?.status ?? null,
        runtimeVersion: runtime?.version ?? null,
        error: ok
          ? null
          : ((await cpi.runtimeError(artifactId)) ??
            `deployment ${deployStatus}, runtime ${runtime?.status ?? 'absent'}`),
      };
    }
    if (deps.clock.now() - started > POLL_LIMIT_MS)
      return {
        ok: false,
        deployStatus,
        runtimeStatus: runtime?.status ?? null,
        runtimeVersion: runtime?.version ?? null,
        error: 'still deploying after 15 minutes',
      };
    await options.checkStillRunning?.();
    await pause(wait, options.signal);
    wait = Math.min(wait * 2, 5000);
  }
}

/**
 * Uploads `content` as the target's artifact (update when it exists, else create in its package),
 * then deploys it once: the deploy step first compares the runtime with what it saw before, so a
 * deploy whose answer was lost is not repeated.
 */
async function uploadAndDeploy(
  context: TaskContext<DeploymentTask>,
  target: CloudIntegrationClient,
  artifact: { id: string; name: string; packageId: string },
  content: Buffer | undefined,
  stepPrefix: string,
): Promise<DeployOutcome> {
  if (content) {
    await context.step(`${stepPrefix}upload:${artifact.id}`, async () => {
      const exists = await target.getArtifact(artifact.id);
      if (exists) await target.updateArtifact({ id: artifact.id, name: exists.name, content });
      else {
        await target.ensurePackage({ id: artifact.packageId, name: artifact.packageId });
        await target.createArtifact({ ...artifact, content });
      }
      return { updated: exists !== undefined };
    });
  }
  const before = await context.step(`${stepPrefix}before-deploy:${artifact.id}`, async () => {
    const runtime = await target.runtimeArtifact(artifact.id);
    return { deployedOn: runtime?.deployedOn ?? null, status: runtime?.status ?? null };
  });
  const { taskId } = await context.step(`${stepPrefix}deploy:${artifact.id}`, async () => {
    const runtime = await target.runtimeArtifact(artifact.id);
    // A deployment since the snapshot (finished, or still starting) is ours: its answer was lost.
    const changed =
      runtime !== undefined &&
      ((runtime.deployedOn ?? null) !== before.deployedOn ||
        (runtime.status === 'STARTING' && before.status !== 'STARTING'));
    if (changed) return { taskId: null };
    return { taskId: await target.deploy(artifact.id) };
  });
  return waitForDeployment(context.deps, target, artifact.id, taskId, {
    signal: context.signal,
    checkStillRunning: () => context.checkStillRunning(),
  });
}

/**
 * A Cloud Integration deployment: each of the story's artifacts comes from the pipeline's source
 * tenant (the first stage's), the target's current version is backed up, the artifact uploaded
 * or updated and deployed, and its runtime must reach STARTED. On failure, ErrorInformation is
 * kept and, when the task says so, the backup is deployed again.
 */
export async function runCloudIntegrationDeployment(
  context: TaskContext<DeploymentTask>,
): Promise<TaskOutcome> {
  const { deps, run, stage, task, definition } = context;
  const targetName = stage.targets?.cloudIntegration?.credential;
  const sourceName = definition.stages[0]?.targets?.cloudIntegration?.credential;
  if (!targetName || !sourceName)
    return {
      state: 'failed',
      message: `${task.name}: the stage or the first stage has no Cloud Integration tenant`,
    };
  const targetKey = await targetCredential(deps, run.tenant_id, run.project_id, targetName);
  const sourceKey = await targetCredential(deps, run.tenant_id, run.project_id, sourceName);
  const inPlace = targetKey.id === sourceKey.id;
  const target = deps.connectors.cloudIntegration(targetKey);
  const source = inPlace ? target : deps.connectors.cloudIntegration(sourceKey);

  const artifacts = (await attachedComponents(deps.db, context.story.tenant_id, context.story.id)).flatMap(
    (c) => {
      const d = detailsOf(c);
      return d.kind === 'cpi_artifact' ? [d.cpiArtifact] : [];
    },
  );
  if (artifacts.length === 0)
    return { state: 'passed', message: `${task.name}: no Cloud Integration artifact to deploy` };

  const results: Array<Record<string, unknown>> = [];
  for (const artifact of artifacts) {
    const id = artifact.artifactId;
    const fetched = inPlace
      ? undefined
      : await context.step(`download:${id}`, async () => {
          const designtime = await source.getArtifact(id, artifact.version ?? 'active');
          if (!designtime)
            throw new Error(`${id} ${artifact.version ?? 'active'} is not in the source tenant`);
          const zip = await source.downloadArtifact(id, artifact.version ?? 'active');
          await context.log(
            'info',
            `Downloaded ${id} ${designtime.version} from the source tenant (${zip.length} bytes)`,
          );
          return { name: designtime.name, version: designtime.version, base64: zip.toString('base64') };
        });
    const backup =
      task.backup === false || inPlace
        ? null
        : await context.step(`backup:${id}`, async () => {
            const current = await target.getArtifact(id);
            if (!current) return null;
            const zip = await target.downloadArtifact(id);
            await deps.db
              .insertInto('hub_cpi_backups')
              .values({
                run_id: run.id,
                task_key: context.row.task_key,
                artifact_id: id,
                tenant_id: run.tenant_id,
                version: current.version,
                name: current.name,
                package_id: current.packageId ?? artifact.packageId,
                content_base64: zip.toString('base64'),
                created_at: deps.clock.now(),
              })
              .onConflict((oc) => oc.columns(['run_id', 'task_key', 'artifact_id']).doNothing())
              .execute();
            await context.log('info', `Backed up ${id} ${current.version} from the target tenant`);
            return { version: current.version };
          });
    const outcome = await uploadAndDeploy(
      context,
      target,
      { id, name: fetched?.name ?? id, packageId: artifact.packageId },
      fetched ? Buffer.from(fetched.base64, 'base64') : undefined,
      '',
    );
    const entry: Record<string, unknown> = {
      artifactId: id,
      version: fetched?.version ?? outcome.runtimeVersion,
      inPlace,
      backup,
      ...outcome,
    };
    results.push(entry);
    if (outcome.ok) {
      await context.log('info', `${id} ${outcome.runtimeVersion ?? ''} deployed: ${outcome.runtimeStatus}`);
      continue;
    }
    await context.log('error', `${id} failed to deploy (${outcome.deployStatus}): ${outcome.error}`);
    if (task.rollbackOnFailure && backup) {
      const restored = await restoreBackup(context, target, id, 'auto-rollback:');
      entry.rollback = restored;
    }
    const rolledBack = entry.rollback as DeployOutcome | undefined;
    return {
      state: 'failed',
      message: `${task.name}: ${id} failed to deploy: ${outcome.error}${rolledBack ? (rolledBack.ok ? `; rolled back to ${backup?.version} (${rolledBack.runtimeStatus})` : `; rollback failed: ${rolledBack.error}`) : ''}`,
      result: { artifacts: results },
    };
  }
  return {
    state: 'passed',
    message: `${results.map((r) => `${r.artifactId} ${r.runtimeVersion ?? ''}`.trim()).join(', ')} deployed to ${targetName}: STARTED`,
    result: { artifacts: results },
  };
}

/** Uploads the backup a task took of `artifactId` and deploys it. */
export async function restoreBackup(
  context: TaskContext<DeploymentTask>,
  target: CloudIntegrationClient,
  artifactId: string,
  stepPrefix: string,
): Promise<DeployOutcome> {
  const backup = await context.deps.db
    .selectFrom('hub_cpi_backups')
    .selectAll()
    .where('run_id', '=', context.run.id)
    .where('task_key', '=', context.row.task_key)
    .where('artifact_id', '=', artifactId)
    .executeTakeFirstOrThrow();
  await context.log('info', `Rolling back ${artifactId} to ${backup.version}`);
  const outcome = await uploadAndDeploy(
    context,
    target,
    { id: artifactId, name: backup.name, packageId: backup.package_id ?? artifactId },
    Buffer.from(backup.content_base64, 'base64'),
    stepPrefix,
  );
  await context.log(
    outcome.ok ? 'info' : 'error',
    `Rollback of ${artifactId} to ${backup.version}: ${outcome.ok ? outcome.runtimeStatus : outcome.error}`,
  );
  return outcome;
}
