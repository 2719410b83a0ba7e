import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { notFound } from '../access/authorize.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import { currentDefinition, loadPipeline } from './load-pipeline.js';
import { lockPipelines, pipelineObject, type SaveDeps } from './save-pipeline.js';
import { countAssignedStories, defaultPipeline, findPipeline, projectPipelines } from './store.js';
import { type PipelineView, pipelineSummaryView, pipelineView } from './views.js';

/** Makes the pipeline its project's default; the previous default stops being one. */
export async function setDefaultPipeline(
  deps: SaveDeps,
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<PipelineView> {
  const loaded = await loadPipeline(deps, actor, id, 'pipelines.manage');
  return deps.db.transaction().execute(async (trx) => {
    await lockPipelines(trx, deps, loaded.project_id);
    const row = await findPipeline(trx, actor.tenantId, id);
    if (!row) throw notFound('pipeline', id);
    const definition = await currentDefinition(trx, row);
    if (row.is_default === 1) return pipelineView(row, definition);
    const previous = await defaultPipeline(trx, actor.tenantId, row.project_id);
    const now = deps.clock.now();
    // The old default first: the store holds at most one per project at any moment.
    if (previous)
      await trx
        .updateTable('hub_pipelines')
        .set({ is_default: 0, updated_by: actor.userId, updated_at: now })
        .where('id', '=', previous.id)
        .where('tenant_id', '=', actor.tenantId)
        .execute();
    const changes = { is_default: 1, updated_by: actor.userId, updated_at: now };
    await trx
      .updateTable('hub_pipelines')
      .set(changes)
      .where('id', '=', row.id)
      .where('tenant_id', '=', actor.tenantId)
      .execute();
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: row.project_id,
      occurredAt: now,
      kind: 'pipeline.default_changed',
      object: pipelineObject(row),
      before: { defaultPipeline: previous ? { id: previous.id, name: previous.name } : null },
      after: { defaultPipeline: { id: row.id, name: row.name } },
    });
    return pipelineView({ ...row, ...changes }, definition);
  });
}

/**
 * Deletes a pipeline: it leaves the project's list, its versions stay for the runs that use them.
 * Refused (409) while stories are assigned to it explicitly, and for the default while the
 * project has other pipelines (make another the default first). The last pipeline may go.
 */
export async function deletePipeline(
  deps: SaveDeps,
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<void> {
  const loaded = await loadPipeline(deps, actor, id, 'pipelines.manage');
  await deps.db.transaction().execute(async (trx) => {
    await lockPipelines(trx, deps, loaded.project_id);
    const row = await findPipeline(trx, actor.tenantId, id);
    if (!row) throw notFound('pipeline', id);
    const assigned = await countAssignedStories(trx, actor.tenantId, id);
    if (assigned > 0)
      throw new AppError(
        'conflict',
        `${assigned} stor${assigned === 1 ? 'y follows' : 'ies follow'} pipeline "${row.name}"; assign them another pipeline first`,
        { details: { assignedStories: assigned } },
      );
    const others = (await projectPipelines(trx, actor.tenantId, row.project_id)).filter((p) => p.id !== id);
    if (row.is_default === 1 && others.length > 0)
      throw new AppError(
        'conflict',
        `Pipeline "${row.name}" is the project's default; make another pipeline the default first`,
        { details: { otherPipelines: others.map((p) => ({ id: p.id, name: p.name })) } },
      );
    const now = deps.clock.now();
    await trx
      .updateTable('hub_pipelines')
      .set({
        is_default: 0,
        deleted_by: actor.userId,
        deleted_at: now,
        updated_by: actor.userId,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('tenant_id', '=', actor.tenantId)
      .execute();
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: row.project_id,
      occurredAt: now,
      kind: 'pipeline.deleted',
      object: pipelineObject(row),
      before: pipelineSummaryView(row, await currentDefinition(trx, row)),
    });
  });
}
