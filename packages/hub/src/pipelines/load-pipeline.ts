import { AppError } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Actor } from '../access/actor.js';
import { notFound, requireProjectAction } from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import type { HubDeps } from '../app/deps.js';
import type { HubTables, PipelinesTable } from '../store/tables.js';
import type { PipelineDefinition } from './definition.js';
import { findPipeline, findVersion } from './store.js';
import { definitionOf } from './views.js';

/** A live pipeline of the caller's tenant, after checking `action` in its project (else its 404). */
export async function loadPipeline(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<PipelinesTable> {
  const row = await findPipeline(deps.db, actor.tenantId, id);
  if (!row) throw notFound('pipeline', id);
  try {
    await requireProjectAction(deps.db, actor, row.project_id, action);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') throw notFound('pipeline', id);
    throw error;
  }
  return row;
}

export interface LoadedPipelineVersion {
  pipelineId: string;
  projectId: string;
  version: number;
  definition: PipelineDefinition;
  createdBy: string;
  createdAt: number;
}

/**
 * One saved version of a pipeline, with its defaults filled in; also of a deleted pipeline (a run
 * keeps the version it started with). Undefined when the tenant has no such version.
 */
export async function loadPipelineVersion(
  db: Kysely<HubTables>,
  tenantId: string,
  pipelineId: string,
  version: number,
): Promise<LoadedPipelineVersion | undefined> {
  const row = await findVersion(db, tenantId, pipelineId, version);
  if (!row) return undefined;
  const pipeline = await db
    .selectFrom('hub_pipelines')
    .select('project_id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', pipelineId)
    .executeTakeFirst();
  if (!pipeline) return undefined;
  return {
    pipelineId,
    projectId: pipeline.project_id,
    version: row.version,
    definition: definitionOf(row),
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** The current definition of a live pipeline row (its current version always exists). */
export async function currentDefinition(
  db: Kysely<HubTables>,
  row: PipelinesTable,
): Promise<PipelineDefinition> {
  const version = await findVersion(db, row.tenant_id, row.id, row.current_version);
  if (!version) throw new Error(`pipeline ${row.id} has no version ${row.current_version}`);
  return definitionOf(version);
}
