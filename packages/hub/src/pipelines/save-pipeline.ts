import { randomUUID } from 'node:crypto';
import { AppError, writeJson } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import Value from 'typebox/value';
import type { Actor } from '../access/actor.js';
import { notFound, requireProjectAction } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import type { AuditObject } from '../audit/types.js';
import { lockForTransaction } from '../store/lock.js';
import type { HubTables, PipelinesTable } from '../store/tables.js';
import type { PipelineDefinition } from './definition.js';
import { currentDefinition, loadPipeline } from './load-pipeline.js';
import { readPipelineYaml } from './pipeline-yaml.js';
import { defaultPipeline, findPipeline, pipelineByName } from './store.js';
import { validatePipeline } from './validate-pipeline.js';
import { type PipelineView, pipelineSummaryView, pipelineView } from './views.js';

export type SaveDeps = Pick<HubDeps, 'db' | 'clock' | 'store'>;
type Db = Kysely<HubTables>;

export const pipelineObject = (row: PipelinesTable): AuditObject => ({
  kind: 'pipeline',
  id: row.id,
  label: row.name,
});

/** Pipelines of a project change one at a time (names, versions and the default are checked first). */
export function lockPipelines(trx: Db, deps: Pick<HubDeps, 'store'>, projectId: string): Promise<void> {
  return lockForTransaction(trx, deps.store.dialect, `pipelines:${projectId}`);
}

function nameTaken(name: string): AppError {
  return new AppError('conflict', `The project already has a pipeline named "${name}"`, {
    details: { field: 'name' },
  });
}

async function insertPipeline(
  trx: Db,
  deps: SaveDeps,
  actor: Actor,
  projectId: string,
  definition: PipelineDefinition,
  requestId: string | undefined,
): Promise<PipelineView> {
  if (await pipelineByName(trx, actor.tenantId, projectId, definition.name)) throw nameTaken(definition.name);
  const now = deps.clock.now();
  const row: PipelinesTable = {
    id: randomUUID(),
    tenant_id: actor.tenantId,
    project_id: projectId,
    name: definition.name,
    // The project's first pipeline is its default.
    is_default: (await defaultPipeline(trx, actor.tenantId, projectId)) ? 0 : 1,
    current_version: 1,
    created_by: actor.userId,
    created_at: now,
    updated_by: actor.userId,
    updated_at: now,
    deleted_by: null,
    deleted_at: null,
  };
  await trx.insertInto('hub_pipelines').values(row).execute();
  await trx
    .insertInto('hub_pipeline_versions')
    .values({
      pipeline_id: row.id,
      version: 1,
      tenant_id: actor.tenantId,
      definition: writeJson(definition),
      created_by: actor.userId,
      created_at: now,
    })
    .execute();
  const view = pipelineView(row, definition);
  await recordAudit(trx, {
    ...userAudit(actor, requestId),
    tenantId: actor.tenantId,
    projectId,
    occurredAt: now,
    kind: 'pipeline.created',
    object: pipelineObject(row),
    after: pipelineSummaryView(row, definition),
  });
  return view;
}

/** A new version of a live pipeline (re-read under the lock), renamed when the definition says so. */
async function insertVersion(
  trx: Db,
  deps: SaveDeps,
  actor: Actor,
  id: string,
  definition: PipelineDefinition,
  requestId: string | undefined,
): Promise<PipelineView> {
  const row = await findPipeline(trx, actor.tenantId, id);
  if (!row) throw notFound('pipeline', id);
  if (definition.name !== row.name) {
    const other = await pipelineByName(trx, actor.tenantId, row.project_id, definition.name);
    if (other && other.id !== row.id) throw nameTaken(definition.name);
  }
  const before = pipelineSummaryView(row, await currentDefinition(trx, row));
  const now = deps.clock.now();
  const changes = {
    name: definition.name,
    current_version: row.current_version + 1,
    updated_by: actor.userId,
    updated_at: now,
  };
  await trx
    .insertInto('hub_pipeline_versions')
    .values({
      pipeline_id: row.id,
      version: changes.current_version,
      tenant_id: actor.tenantId,
      definition: writeJson(definition),
      created_by: actor.userId,
      created_at: now,
    })
    .execute();
  await trx
    .updateTable('hub_pipelines')
    .set(changes)
    .where('id', '=', row.id)
    .where('tenant_id', '=', actor.tenantId)
    .execute();
  const updated = { ...row, ...changes };
  await recordAudit(trx, {
    ...userAudit(actor, requestId),
    tenantId: actor.tenantId,
    projectId: row.project_id,
    occurredAt: now,
    kind: 'pipeline.updated',
    object: pipelineObject(updated),
    before,
    after: pipelineSummaryView(updated, definition),
  });
  return pipelineView(updated, definition);
}

/** Creates a pipeline from a definition; the project's first becomes its default. */
export async function createPipeline(
  deps: SaveDeps,
  actor: Actor,
  projectId: string,
  body: unknown,
  requestId?: string,
): Promise<PipelineView> {
  await requireProjectAction(deps.db, actor, projectId, 'pipelines.manage');
  const definition = await validatePipeline(deps.db, actor.tenantId, projectId, body);
  return deps.db.transaction().execute(async (trx) => {
    await lockPipelines(trx, deps, projectId);
    return insertPipeline(trx, deps, actor, projectId, definition, requestId);
  });
}

/** Saves a definition as the pipeline's next version (runs already started keep theirs). */
export async function updatePipeline(
  deps: SaveDeps,
  actor: Actor,
  id: string,
  body: unknown,
  requestId?: string,
): Promise<PipelineView> {
  const row = await loadPipeline(deps, actor, id, 'pipelines.manage');
  const definition = await validatePipeline(deps.db, actor.tenantId, row.project_id, body);
  return deps.db.transaction().execute(async (trx) => {
    await lockPipelines(trx, deps, row.project_id);
    return insertVersion(trx, deps, actor, id, definition, requestId);
  });
}

export interface ImportResult {
  outcome: 'created' | 'updated' | 'unchanged';
  pipeline: PipelineView;
}

/**
 * Pipeline as code: YAML text (or a JSON definition) creates the pipeline, or becomes the next
 * version of the project's pipeline of the same name. A file equal to the current version changes
 * nothing, so a CI job may import on every push.
 */
export async function importPipeline(
  deps: SaveDeps,
  actor: Actor,
  projectId: string,
  body: unknown,
  requestId?: string,
): Promise<ImportResult> {
  await requireProjectAction(deps.db, actor, projectId, 'pipelines.manage');
  const yaml = typeof body === 'string' ? readPipelineYaml(body) : undefined;
  const definition = await validatePipeline(
    deps.db,
    actor.tenantId,
    projectId,
    yaml ? yaml.value : body,
    yaml,
  );
  return deps.db.transaction().execute(async (trx) => {
    await lockPipelines(trx, deps, projectId);
    const existing = await pipelineByName(trx, actor.tenantId, projectId, definition.name);
    if (!existing)
      return {
        outcome: 'created' as const,
        pipeline: await insertPipeline(trx, deps, actor, projectId, definition, requestId),
      };
    const current = await currentDefinition(trx, existing);
    if (Value.Equal(current, definition))
      return { outcome: 'unchanged' as const, pipeline: pipelineView(existing, current) };
    return {
      outcome: 'updated' as const,
      pipeline: await insertVersion(trx, deps, actor, existing.id, definition, requestId),
    };
  });
}
