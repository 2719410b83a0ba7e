import { readJson, writeJson } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import {
  orderedTasks,
  type PipelineDefinition,
  type PipelineStage,
  type PipelineTask,
} from '../pipelines/definition.js';
import { loadPipelineVersion } from '../pipelines/load-pipeline.js';
import type { CalmStoriesTable, HubTables } from '../store/tables.js';
import type { PipelineRunsTable, RunTasksTable, TaskState } from './tables.js';

export type Db = Kysely<HubTables>;

export interface LogLine {
  at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export function findRun(db: Db, tenantId: string, id: string): Promise<PipelineRunsTable | undefined> {
  return db
    .selectFrom('hub_pipeline_runs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function runById(db: Db, id: string): Promise<PipelineRunsTable | undefined> {
  return db.selectFrom('hub_pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export function tasksOf(db: Db, runId: string): Promise<RunTasksTable[]> {
  return db.selectFrom('hub_run_tasks').selectAll().where('run_id', '=', runId).orderBy('position').execute();
}

export function taskOf(db: Db, runId: string, taskKey: string): Promise<RunTasksTable | undefined> {
  return db
    .selectFrom('hub_run_tasks')
    .selectAll()
    .where('run_id', '=', runId)
    .where('task_key', '=', taskKey)
    .executeTakeFirst();
}

/** One line of the timeline (and of the live stream). */
export async function recordRunEvent(
  db: Db,
  run: Pick<PipelineRunsTable, 'id' | 'tenant_id' | 'project_id' | 'story_id' | 'stage_key'>,
  event: {
    at: number;
    kind: 'run' | 'task';
    taskKey?: string;
    state: string;
    actor: string;
    message: string;
  },
): Promise<void> {
  await db
    .insertInto('hub_run_events')
    .values({
      tenant_id: run.tenant_id,
      project_id: run.project_id,
      run_id: run.id,
      story_id: run.story_id,
      at: event.at,
      kind: event.kind,
      stage_key: run.stage_key,
      task_key: event.taskKey ?? null,
      state: event.state,
      actor: event.actor,
      message: event.message,
    })
    .execute();
}

/** Sets a task's state (and its result and new log lines); `from` guards against a concurrent abort. */
export async function updateTask(
  db: Db,
  task: Pick<RunTasksTable, 'run_id' | 'task_key'>,
  change: {
    state: TaskState;
    from?: TaskState[];
    result?: unknown;
    log?: LogLine[];
    startedAt?: number;
    endedAt?: number | null;
    attempt?: number;
  },
): Promise<boolean> {
  const current = await taskOf(db, task.run_id, task.task_key);
  if (!current) return false;
  if (change.from && !change.from.includes(current.state)) return false;
  const log = change.log ? [...readJson<LogLine[]>(current.log), ...change.log] : undefined;
  const updated = await db
    .updateTable('hub_run_tasks')
    .set({
      state: change.state,
      ...(change.result !== undefined ? { result: writeJson(change.result) } : {}),
      ...(log ? { log: writeJson(log) } : {}),
      ...(change.startedAt !== undefined ? { started_at: change.startedAt } : {}),
      ...(change.endedAt !== undefined ? { ended_at: change.endedAt } : {}),
      ...(change.attempt !== undefined ? { attempt: change.attempt } : {}),
    })
    .where('run_id', '=', task.run_id)
    .where('task_key', '=', task.task_key)
    .where('state', '=', current.state)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

export async function appendTaskLog(
  db: Db,
  task: Pick<RunTasksTable, 'run_id' | 'task_key'>,
  lines: LogLine[],
) {
  const current = await taskOf(db, task.run_id, task.task_key);
  if (!current || lines.length === 0) return;
  await db
    .updateTable('hub_run_tasks')
    .set({ log: writeJson([...readJson<LogLine[]>(current.log), ...lines]) })
    .where('run_id', '=', task.run_id)
    .where('task_key', '=', task.task_key)
    .execute();
}

/** What a run runs against: the definition version it keeps, its stage in it, its story. Undefined when one is gone. */
export async function runSubject(
  db: Db,
  run: PipelineRunsTable,
): Promise<{ definition: PipelineDefinition; stage: PipelineStage; story: CalmStoriesTable } | undefined> {
  const version = await loadPipelineVersion(db, run.tenant_id, run.pipeline_id, run.pipeline_version);
  const stage = version?.definition.stages[run.stage_index];
  const story = await db
    .selectFrom('hub_calm_stories')
    .selectAll()
    .where('id', '=', run.story_id)
    .executeTakeFirst();
  return version && stage && story ? { definition: version.definition, stage, story } : undefined;
}

/** The definition of a stage's task by its key (`<phase>.<index>`). */
export const taskOfStage = (stage: PipelineStage, taskKey: string): PipelineTask | undefined =>
  orderedTasks(stage).find((t) => t.key === taskKey)?.task;
