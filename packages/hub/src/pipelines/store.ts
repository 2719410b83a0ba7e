import type { Kysely } from 'kysely';
import type {
  HubTables,
  PipelinesTable,
  PipelineVersionsTable,
  StoryPipelinesTable,
} from '../store/tables.js';

type Db = Kysely<HubTables>;

/** The tenant's live (not deleted) pipelines, to narrow down. */
const livePipelines = (db: Db, tenantId: string) =>
  db
    .selectFrom('hub_pipelines')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('deleted_at', 'is', null);

/** A live (not deleted) pipeline of the tenant. */
export function findPipeline(db: Db, tenantId: string, id: string): Promise<PipelinesTable | undefined> {
  return livePipelines(db, tenantId).where('id', '=', id).executeTakeFirst();
}

/** A project's live pipelines: the default first, then by name. */
export function projectPipelines(db: Db, tenantId: string, projectId: string): Promise<PipelinesTable[]> {
  return livePipelines(db, tenantId)
    .where('project_id', '=', projectId)
    .orderBy('is_default', 'desc')
    .orderBy('name')
    .orderBy('id')
    .execute();
}

export function pipelineByName(
  db: Db,
  tenantId: string,
  projectId: string,
  name: string,
): Promise<PipelinesTable | undefined> {
  return livePipelines(db, tenantId)
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export function defaultPipeline(
  db: Db,
  tenantId: string,
  projectId: string,
): Promise<PipelinesTable | undefined> {
  return livePipelines(db, tenantId)
    .where('project_id', '=', projectId)
    .where('is_default', '=', 1)
    .executeTakeFirst();
}

/** One saved version; versions of deleted pipelines stay readable (runs refer to them). */
export function findVersion(
  db: Db,
  tenantId: string,
  pipelineId: string,
  version: number,
): Promise<PipelineVersionsTable | undefined> {
  return db
    .selectFrom('hub_pipeline_versions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('pipeline_id', '=', pipelineId)
    .where('version', '=', version)
    .executeTakeFirst();
}

/** Every version of a pipeline, newest first. */
export function versionsOf(db: Db, tenantId: string, pipelineId: string): Promise<PipelineVersionsTable[]> {
  return db
    .selectFrom('hub_pipeline_versions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('pipeline_id', '=', pipelineId)
    .orderBy('version', 'desc')
    .execute();
}

export function storyAssignment(
  db: Db,
  tenantId: string,
  storyId: string,
): Promise<StoryPipelinesTable | undefined> {
  return db
    .selectFrom('hub_story_pipelines')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('story_id', '=', storyId)
    .executeTakeFirst();
}

export async function countAssignedStories(db: Db, tenantId: string, pipelineId: string): Promise<number> {
  const row = await db
    .selectFrom('hub_story_pipelines')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('pipeline_id', '=', pipelineId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * A credential of the tenant by name: the project's own when it has one of that name, else the
 * tenant's global one; undefined when neither exists.
 */
export async function credentialByName(
  db: Db,
  tenantId: string,
  projectId: string,
  name: string,
): Promise<{ id: string; system: string } | undefined> {
  const rows = await db
    .selectFrom('hub_credentials')
    .select(['id', 'system', 'project_id'])
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .where((eb) => eb.or([eb('project_id', 'is', null), eb('project_id', '=', projectId)]))
    .execute();
  const row = rows.find((r) => r.project_id === projectId) ?? rows[0];
  return row && { id: row.id, system: row.system };
}
