import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { requireProjectAction } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import { loadStory } from '../stories/load-story.js';
import { loadRun } from './operate-run.js';
import { storyPosition } from './promote-story.js';
import { type Db, runById, tasksOf } from './run-store.js';
import type { RunsQuery } from './schemas.js';
import { runEventView, runView } from './views.js';

type Deps = Pick<HubDeps, 'db'>;

export async function viewRun(db: Db, id: string) {
  const run = await runById(db, id);
  return run ? runView(run, await tasksOf(db, run.id)) : null;
}

export async function getRun(deps: Deps, actor: Actor, id: string) {
  const run = await loadRun(deps, actor, id, 'pipelines.read');
  const timeline = await deps.db
    .selectFrom('hub_run_events')
    .selectAll()
    .where('run_id', '=', run.id)
    .orderBy('id')
    .execute();
  return { run: runView(run, await tasksOf(deps.db, run.id)), timeline: timeline.map(runEventView) };
}

export async function listRuns(deps: Deps, actor: Actor, query: RunsQuery) {
  let projectId = query.projectId;
  if (query.storyId) {
    const story = await loadStory(deps, actor, query.storyId, 'pipelines.read');
    if (projectId && projectId !== story.project_id) return [];
    projectId = story.project_id;
  }
  if (!projectId)
    throw new AppError('validation_failed', 'Give projectId or storyId', {
      details: [{ location: 'querystring', message: 'projectId or storyId is required' }],
    });
  await requireProjectAction(deps.db, actor, projectId, 'pipelines.read');
  let select = deps.db
    .selectFrom('hub_pipeline_runs')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('project_id', '=', projectId);
  if (query.storyId) select = select.where('story_id', '=', query.storyId);
  if (query.state) select = select.where('state', '=', query.state as 'running');
  const runs = await select
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit ?? 50)
    .execute();
  // Every listed run's tasks in one query.
  const tasks =
    runs.length === 0
      ? []
      : await deps.db
          .selectFrom('hub_run_tasks')
          .selectAll()
          .where(
            'run_id',
            'in',
            runs.map((r) => r.id),
          )
          .orderBy('position')
          .execute();
  return runs.map((run) =>
    runView(
      run,
      tasks.filter((t) => t.run_id === run.id),
    ),
  );
}

/** Where the story stands: its pipeline, its stage and that stage's state, and the latest run. */
export async function pipelineStatus(deps: Deps, actor: Actor, storyId: string) {
  const story = await loadStory(deps, actor, storyId, 'pipelines.read');
  const position = await storyPosition(deps.db, story.tenant_id, story.id);
  if (!position)
    return { storyId, pipeline: null, stage: null, state: null, stages: [], nextStage: null, run: null };
  const pipeline = await deps.db
    .selectFrom('hub_pipelines')
    .select(['id', 'name'])
    .where('id', '=', position.pipelineId)
    .executeTakeFirst();
  const stages = position.definition.stages;
  const current = stages[position.stageIndex];
  const next =
    position.state === 'failed' || position.state === 'aborted'
      ? current
      : position.state === 'passed'
        ? stages[position.stageIndex + 1]
        : undefined;
  return {
    storyId,
    pipeline: {
      id: position.pipelineId,
      name: pipeline?.name ?? position.definition.name,
      version: position.version,
    },
    stage: current ? { key: current.key, name: current.name, index: position.stageIndex } : null,
    state: position.state,
    stages: stages.map((s, i) => ({
      key: s.key,
      name: s.name,
      state:
        i < position.stageIndex || (i === position.stageIndex && position.state === 'passed')
          ? 'passed'
          : i === position.stageIndex
            ? 'current'
            : 'upcoming',
    })),
    nextStage: next?.key ?? null,
    run: position.runId ? await viewRun(deps.db, position.runId) : null,
  };
}

/** Timeline events of a project after `after` (the live stream's source). */
export async function eventsAfter(
  db: Db,
  tenantId: string,
  projectId: string,
  after: number,
  storyId?: string,
) {
  let select = db
    .selectFrom('hub_run_events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('project_id', '=', projectId)
    .where('id', '>', after);
  if (storyId) select = select.where('story_id', '=', storyId);
  return (await select.orderBy('id').limit(500).execute()).map(runEventView);
}
