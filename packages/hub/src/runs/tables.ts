import type { Generated } from 'kysely';

/** Row types of the runs domain (joined into HubTables). JSON columns are text on both engines. */

export type StageState = 'running' | 'waiting' | 'passed' | 'failed' | 'aborted';
export type RunState = 'running' | 'waiting' | 'passed' | 'failed' | 'aborted';
export type TaskState = 'pending' | 'running' | 'waiting' | 'passed' | 'failed' | 'skipped' | 'aborted';

/** Where a story stands. No row: in the first stage of its effective pipeline, passed. */
export type StoryStagesTable = {
  story_id: string;
  tenant_id: string;
  project_id: string;
  pipeline_id: string;
  pipeline_version: number;
  stage_key: string;
  stage_index: number;
  state: StageState;
  run_id: string | null;
  updated_at: number;
};

export type PipelineRunsTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  story_id: string;
  pipeline_id: string;
  /** The definition version the run started with; it keeps it whatever is saved later. */
  pipeline_version: number;
  stage_key: string;
  stage_index: number;
  from_stage_key: string;
  state: RunState;
  /** A user id, or `integration:<id>` when Cloud ALM's lifecycle promoted. */
  requested_by: string;
  requested_by_label: string;
  promotion_request_id: string | null;
  created_at: number;
  ended_at: number | null;
  updated_at: number;
};

export type RunTasksTable = {
  run_id: string;
  /** `<phase>.<index>` in the run's definition version. */
  task_key: string;
  position: number;
  phase: string;
  type: string;
  name: string;
  state: TaskState;
  /** Bumped by a retry; deployment steps are memoised per attempt. */
  attempt: number;
  started_at: number | null;
  ended_at: number | null;
  /** What the task found or did, JSON (checks, approvals, imports, deployments). */
  result: string | null;
  /** JSON array of { at, level, message }. */
  log: string;
};

export type RunApprovalsTable = {
  run_id: string;
  task_key: string;
  /** The task's attempt the decision is for: a retry asks again. */
  attempt: number;
  user_id: string;
  tenant_id: string;
  email: string;
  role: string;
  decision: 'approved' | 'rejected';
  comment: string;
  /** The story's components and versions as approved, JSON. */
  evidence: string;
  decided_at: number;
};

export type RunEventsTable = {
  id: Generated<number>;
  tenant_id: string;
  project_id: string;
  run_id: string;
  story_id: string;
  at: number;
  /** run | task */
  kind: string;
  stage_key: string;
  task_key: string | null;
  state: string;
  actor: string;
  message: string;
};

export type CpiBackupsTable = {
  run_id: string;
  task_key: string;
  artifact_id: string;
  tenant_id: string;
  version: string;
  name: string;
  package_id: string | null;
  content_base64: string;
  created_at: number;
};

export type RunTables = {
  hub_story_stages: StoryStagesTable;
  hub_pipeline_runs: PipelineRunsTable;
  hub_run_tasks: RunTasksTable;
  hub_run_approvals: RunApprovalsTable;
  hub_run_events: RunEventsTable;
  hub_cpi_backups: CpiBackupsTable;
};
