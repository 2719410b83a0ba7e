import { randomUUID } from 'node:crypto';
import { AppError, writeJson } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import type { AuditContext } from '../audit/types.js';
import { orderedTasks, type PipelineDefinition, type PipelineStage } from '../pipelines/definition.js';
import { loadPipelineVersion } from '../pipelines/load-pipeline.js';
import { effectivePipeline } from '../pipelines/story-pipeline.js';
import { lockForTransaction } from '../store/lock.js';
import type { CalmStoriesTable } from '../store/tables.js';
import { loadStory } from '../stories/load-story.js';
import { enqueueWriteBack } from '../writeback/enqueue-write-back.js';
import { advanceRunJob } from './jobs.js';
import { type Db, recordRunEvent } from './run-store.js';
import type { PipelineRunsTable, StageState } from './tables.js';

type Deps = Pick<HubDeps, 'db' | 'store' | 'queue' | 'clock' | 'publicBaseUrl' | 'config'>;

/** Who asked for a promotion: a user, or Cloud ALM's lifecycle through an integration. */
export interface Requester {
  /** A user id, or `integration:<id>`. */
  id: string;
  label: string;
  audit: AuditContext;
}

/** Where a story stands in its pipeline: its stage row, or the first stage of its effective pipeline. */
export interface StoryPosition {
  pipelineId: string;
  version: number;
  definition: PipelineDefinition;
  stageIndex: number;
  stageKey: string;
  state: StageState;
  runId: string | null;
}

export async function storyPosition(
  db: Db,
  tenantId: string,
  storyId: string,
): Promise<StoryPosition | undefined> {
  const row = await db
    .selectFrom('hub_story_stages')
    .selectAll()
    .where('story_id', '=', storyId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  const effective = await effectivePipeline(db, tenantId, storyId);
  // A story given another pipeline starts over in it, once no run of the old one is in flight.
  const moved =
    row &&
    effective &&
    row.pipeline_id !== effective.pipelineId &&
    row.state !== 'running' &&
    row.state !== 'waiting';
  if (row && !moved) {
    const version = await loadPipelineVersion(db, tenantId, row.pipeline_id, row.pipeline_version);
    if (version)
      return {
        pipelineId: row.pipeline_id,
        version: row.pipeline_version,
        definition: version.definition,
        stageIndex: row.stage_index,
        stageKey: row.stage_key,
        state: row.state,
        runId: row.run_id,
      };
  }
  if (!effective) return undefined;
  const first = effective.definition.stages[0];
  if (!first) return undefined;
  // Development happens in the first stage: a story starts there, passed.
  return {
    pipelineId: effective.pipelineId,
    version: effective.version,
    definition: effective.definition,
    stageIndex: 0,
    stageKey: first.key,
    state: 'passed',
    runId: null,
  };
}

const conflict = (message: string) => new AppError('conflict', message);

export type PromotionPlan =
  | { ok: true; position: StoryPosition; index: number; stage: PipelineStage }
  | { ok: false; reason: string };

/**
 * Where a promotion of the story would go: the next stage (or, after a failed or aborted stage,
 * that stage again), which `targetStage`, when given, must name. Otherwise why it cannot move.
 */
export async function planPromotion(
  db: Db,
  story: CalmStoriesTable,
  targetStage?: string,
): Promise<PromotionPlan> {
  const name = story.display_id ?? story.id;
  const position = await storyPosition(db, story.tenant_id, story.id);
  if (!position)
    return { ok: false, reason: `Story ${name} has no pipeline: its project has no default pipeline` };
  if (position.state === 'running' || position.state === 'waiting')
    return {
      ok: false,
      reason: `Story ${name} is still in a run into ${position.stageKey} (${position.state}); wait, abort or retry it`,
    };
  const again = position.state === 'failed' || position.state === 'aborted';
  const index = again ? position.stageIndex : position.stageIndex + 1;
  const stage = position.definition.stages[index];
  if (!stage)
    return { ok: false, reason: `Story ${name} is in the last stage (${position.stageKey}) already` };
  if (targetStage !== undefined && targetStage !== stage.key)
    return {
      ok: false,
      reason: `Story ${name} is in ${position.stageKey} (${position.state}); it can move into ${stage.key} only, not ${targetStage}`,
    };
  return { ok: true, position, index, stage };
}

/**
 * Starts a run that moves the story into the stage `planPromotion` names, or answers why it
 * cannot. The run, its tasks, the story's new position, the timeline, the audit entry, the
 * stage-started write-back and the job that runs the tasks commit together.
 */
export async function tryStartPromotion(
  deps: Deps,
  trx: Db,
  input: {
    story: CalmStoriesTable;
    targetStage?: string | undefined;
    requester: Requester;
    promotionRequestId?: string;
  },
): Promise<{ ok: true; run: PipelineRunsTable } | { ok: false; reason: string }> {
  const { story, requester } = input;
  await lockForTransaction(trx, deps.store.dialect, `story-stage:${story.id}`);
  const plan = await planPromotion(trx, story, input.targetStage);
  if (!plan.ok) return plan;
  const { position, index, stage } = plan;
  const tasks = orderedTasks(stage);

  const now = deps.clock.now();
  const run: PipelineRunsTable = {
    id: randomUUID(),
    tenant_id: story.tenant_id,
    project_id: story.project_id,
    story_id: story.id,
    pipeline_id: position.pipelineId,
    pipeline_version: position.version,
    stage_key: stage.key,
    stage_index: index,
    from_stage_key: position.stageKey,
    state: 'running',
    requested_by: requester.id,
    requested_by_label: requester.label,
    promotion_request_id: input.promotionRequestId ?? null,
    created_at: now,
    ended_at: null,
    updated_at: now,
  };
  await trx.insertInto('hub_pipeline_runs').values(run).execute();
  if (tasks.length > 0)
    await trx
      .insertInto('hub_run_tasks')
      .values(
        tasks.map((t, position) => ({
          run_id: run.id,
          task_key: t.key,
          position,
          phase: t.phase,
          type: t.task.type,
          name: t.task.name,
          state: 'pending' as const,
          attempt: 0,
          started_at: null,
          ended_at: null,
          result: null,
          log: writeJson([]),
        })),
      )
      .execute();
  await trx
    .insertInto('hub_story_stages')
    .values({
      story_id: story.id,
      tenant_id: story.tenant_id,
      project_id: story.project_id,
      pipeline_id: position.pipelineId,
      pipeline_version: position.version,
      stage_key: stage.key,
      stage_index: index,
      state: 'running',
      run_id: run.id,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('story_id').doUpdateSet({
        pipeline_id: position.pipelineId,
        pipeline_version: position.version,
        stage_key: stage.key,
        stage_index: index,
        state: 'running',
        run_id: run.id,
        updated_at: now,
      }),
    )
    .execute();
  await recordRunEvent(trx, run, {
    at: now,
    kind: 'run',
    state: 'running',
    actor: requester.label,
    message: `Promotion from ${position.stageKey} into ${stage.name} started by ${requester.label}`,
  });
  await recordAudit(trx, {
    ...requester.audit,
    tenantId: story.tenant_id,
    projectId: story.project_id,
    occurredAt: now,
    kind: 'run.started',
    object: { kind: 'story', id: story.id, label: story.display_id ?? story.title },
    after: { runId: run.id, stage: stage.key, from: position.stageKey, pipelineVersion: position.version },
  });
  await enqueueWriteBack(deps, trx, {
    tenantId: story.tenant_id,
    storyId: story.id,
    action: 'stage.started',
    text: `calmhub: promotion into ${stage.name} started by ${requester.label} (${tasks.length} task${tasks.length === 1 ? '' : 's'}).`,
  });
  await deps.queue.enqueue(advanceRunJob(run.id), trx);
  return { ok: true, run };
}

/** `tryStartPromotion`, where a story that cannot move is a conflict (409 naming why). */
export async function startPromotion(
  deps: Deps,
  trx: Db,
  input: Parameters<typeof tryStartPromotion>[2],
): Promise<PipelineRunsTable> {
  const started = await tryStartPromotion(deps, trx, input);
  if (!started.ok) throw conflict(started.reason);
  return started.run;
}

/** `POST /api/v1/stories/:id/promote`: a user promotes a story into its next stage. */
export async function promoteStory(
  deps: Deps,
  actor: Actor,
  storyId: string,
  input: { targetStage?: string | undefined },
  requestId: string,
): Promise<PipelineRunsTable> {
  const story = await loadStory(deps, actor, storyId, 'runs.promote');
  if (story.obsolete) throw conflict(`Story ${story.display_id ?? story.id} is gone from Cloud ALM`);
  return deps.db.transaction().execute((trx) =>
    startPromotion(deps, trx, {
      story,
      targetStage: input.targetStage,
      requester: { id: actor.userId, label: actor.email, audit: userAudit(actor, requestId) },
    }),
  );
}
