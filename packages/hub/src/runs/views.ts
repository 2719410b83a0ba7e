import { readJson } from '@calmhub/platform';
import type { LogLine } from './run-store.js';
import type { PipelineRunsTable, RunEventsTable, RunTasksTable } from './tables.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function taskView(row: RunTasksTable) {
  return {
    key: row.task_key,
    phase: row.phase,
    type: row.type,
    name: row.name,
    state: row.state,
    attempt: row.attempt,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    result: row.result === null ? null : readJson(row.result),
    log: readJson<LogLine[]>(row.log).map((l) => ({ ...l, at: new Date(l.at).toISOString() })),
  };
}

export function runView(run: PipelineRunsTable, tasks: RunTasksTable[]) {
  return {
    id: run.id,
    projectId: run.project_id,
    storyId: run.story_id,
    pipelineId: run.pipeline_id,
    pipelineVersion: run.pipeline_version,
    stage: run.stage_key,
    fromStage: run.from_stage_key,
    state: run.state,
    requestedBy: run.requested_by_label,
    promotionRequestId: run.promotion_request_id,
    createdAt: new Date(run.created_at).toISOString(),
    endedAt: iso(run.ended_at),
    tasks: tasks.map(taskView),
  };
}

export function runEventView(row: Omit<RunEventsTable, 'id'> & { id: number }) {
  return {
    id: Number(row.id),
    runId: row.run_id,
    storyId: row.story_id,
    at: new Date(Number(row.at)).toISOString(),
    kind: row.kind,
    stage: row.stage_key,
    task: row.task_key,
    state: row.state,
    actor: row.actor,
    message: row.message,
  };
}
