import type { Kysely } from 'kysely';
import type { Actor } from '../access/actor.js';
import { iso } from '../access/views.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import { invalidField } from '../credentials/credential-input.js';
import type { HubTables, PipelinesTable, StoryPipelinesTable } from '../store/tables.js';
import { loadStory } from '../stories/load-story.js';
import { findStory } from '../stories/store.js';
import type { PipelineDefinition } from './definition.js';
import { currentDefinition } from './load-pipeline.js';
import { lockPipelines, type SaveDeps } from './save-pipeline.js';
import { defaultPipeline, findPipeline, storyAssignment } from './store.js';
import { type PipelineView, pipelineView } from './views.js';

type Db = Kysely<HubTables>;

export interface EffectivePipeline {
  pipelineId: string;
  /** The pipeline's current version: a run started now keeps this one. */
  version: number;
  definition: PipelineDefinition;
  name: string;
  projectId: string;
  /** `assigned`: the story's own; `default`: the project's default. */
  source: 'assigned' | 'default';
}

async function effectiveRow(
  db: Db,
  tenantId: string,
  story: { id: string; project_id: string },
): Promise<{ row: PipelinesTable; assignment: StoryPipelinesTable | undefined } | undefined> {
  const assignment = await storyAssignment(db, tenantId, story.id);
  const assigned = assignment ? await findPipeline(db, tenantId, assignment.pipeline_id) : undefined;
  if (assigned) return { row: assigned, assignment };
  const fallback = await defaultPipeline(db, tenantId, story.project_id);
  return fallback ? { row: fallback, assignment: undefined } : undefined;
}

/**
 * The pipeline a story follows: its assignment, else its project's default; undefined when the
 * story is unknown to the tenant or its project has no pipeline.
 */
export async function effectivePipeline(
  db: Db,
  tenantId: string,
  storyId: string,
): Promise<EffectivePipeline | undefined> {
  const story = await findStory(db, tenantId, storyId);
  if (!story) return undefined;
  const found = await effectiveRow(db, tenantId, story);
  if (!found) return undefined;
  return {
    pipelineId: found.row.id,
    version: found.row.current_version,
    definition: await currentDefinition(db, found.row),
    name: found.row.name,
    projectId: found.row.project_id,
    source: found.assignment ? 'assigned' : 'default',
  };
}

export interface StoryPipelineView {
  storyId: string;
  source: 'assigned' | 'default' | 'none';
  assignedBy: string | null;
  assignedAt: string | null;
  pipeline: PipelineView | null;
}

async function storyPipelineView(
  db: Db,
  tenantId: string,
  story: { id: string; project_id: string },
): Promise<StoryPipelineView> {
  const found = await effectiveRow(db, tenantId, story);
  if (!found)
    return { storyId: story.id, source: 'none', assignedBy: null, assignedAt: null, pipeline: null };
  return {
    storyId: story.id,
    source: found.assignment ? 'assigned' : 'default',
    assignedBy: found.assignment?.assigned_by ?? null,
    assignedAt: found.assignment ? iso(found.assignment.assigned_at) : null,
    pipeline: pipelineView(found.row, await currentDefinition(db, found.row)),
  };
}

export async function getStoryPipeline(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  storyId: string,
): Promise<StoryPipelineView> {
  const story = await loadStory(deps, actor, storyId, 'pipelines.read');
  return storyPipelineView(deps.db, actor.tenantId, story);
}

/** Assigns a pipeline of the story's project to the story, or (null) lets it follow the default again. */
export async function assignStoryPipeline(
  deps: SaveDeps,
  actor: Actor,
  storyId: string,
  input: { pipelineId: string | null },
  requestId?: string,
): Promise<StoryPipelineView> {
  const story = await loadStory(deps, actor, storyId, 'pipelines.manage');
  return deps.db.transaction().execute(async (trx) => {
    await lockPipelines(trx, deps, story.project_id);
    const pipeline =
      input.pipelineId === null ? undefined : await findPipeline(trx, actor.tenantId, input.pipelineId);
    if (input.pipelineId !== null && (!pipeline || pipeline.project_id !== story.project_id))
      throw invalidField('pipelineId', "names no pipeline of the story's project");
    const previous = await storyAssignment(trx, actor.tenantId, story.id);
    if ((previous?.pipeline_id ?? null) === input.pipelineId)
      return storyPipelineView(trx, actor.tenantId, story);
    const now = deps.clock.now();
    await trx
      .deleteFrom('hub_story_pipelines')
      .where('tenant_id', '=', actor.tenantId)
      .where('story_id', '=', story.id)
      .execute();
    if (pipeline)
      await trx
        .insertInto('hub_story_pipelines')
        .values({
          story_id: story.id,
          tenant_id: actor.tenantId,
          pipeline_id: pipeline.id,
          assigned_by: actor.userId,
          assigned_at: now,
        })
        .execute();
    const before = previous ? await findPipeline(trx, actor.tenantId, previous.pipeline_id) : undefined;
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: story.project_id,
      occurredAt: now,
      kind: 'story.pipeline_assigned',
      object: { kind: 'story', id: story.id, label: story.display_id ?? story.title },
      before: { pipeline: before ? { id: before.id, name: before.name } : null },
      after: { pipeline: pipeline ? { id: pipeline.id, name: pipeline.name } : null },
    });
    return storyPipelineView(trx, actor.tenantId, story);
  });
}
