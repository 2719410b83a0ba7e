import type { Generated, Kysely, Transaction } from 'kysely';

// Timestamps are epoch milliseconds; booleans are 0/1 integers on both engines.

export type MetaTable = { key: string; value: string };

export type ClientTable = {
  client_id: string;
  name: string;
  secret_sealed: string;
  scopes: unknown;
  project_ids: unknown;
  is_default: number;
  created_at: number;
};

export type ProjectTable = {
  id: string;
  number: number;
  name: string;
  status: string;
  feature_seq: number;
  created_at: number;
  modified_at: number;
};

export type TimeboxTable = {
  id: string;
  project_id: string;
  type: number;
  name: string;
  start_date: string | null;
  end_date: string | null;
  closed: number;
};

export type FeatureTable = {
  uuid: string;
  project_id: string;
  display_id: string;
  title: string;
  description: string | null;
  status_code: string;
  priority_code: number | null;
  release_id: string | null;
  scope_id: string | null;
  responsible_id: string | null;
  workstream_id: string | null;
  type: string | null;
  tags: unknown;
  created_at: number;
  modified_at: number;
};

export type UrlReferenceTable = {
  uuid: string;
  parent_uuid: string;
  name: string;
  url: string;
  created_at: number;
};

export type ExternalReferenceTable = {
  id: string;
  parent_uuid: string;
  name: string | null;
  url: string | null;
  created_at: number;
};

export type TaskTable = {
  id: string;
  project_id: string;
  title: string;
  type: string;
  status: string;
  sub_status: string | null;
  external_id: string | null;
  start_date: string | null;
  due_date: string | null;
  priority_id: number | null;
  assignee_id: string | null;
  approval_state: string | null;
  parent_id: string | null;
  assigned_role_id: string | null;
  scope_id: string | null;
  story_points: number | null;
  effort: number | null;
  obsolete: number;
  workstream: string | null;
  deliverable_id: string | null;
  involved_parties: string | null;
  timebox_id: string | null;
  description: string | null;
  created_at: number;
  last_changed_at: number;
};

export type TaskTagTable = { task_id: string; tag: string; position: number };

export type CommentTable = {
  id: string;
  task_id: string;
  text: string;
  created_by: string;
  created_at: number;
  changed_at: number;
};

export type ReferenceTable = { id: string; task_id: string; name: string; url: string; created_at: number };

export type TaskAssignmentTable = { parent_uuid: string; task_id: string; created_at: number };

export type SolutionProcessAssignmentTable = {
  relation_id: string;
  task_id: string;
  project_id: string;
  scope_id: string;
  solution_scenario_version_id: string;
  solution_process_id: string;
  created_at: number;
};

export type TransportTable = {
  uuid: string;
  transport_id: string;
  description: string | null;
  owner: string | null;
  status: string;
  source_system: string | null;
  target_system: string | null;
  created_at: number;
  modified_at: number;
};

export type TransportReferenceTable = { parent_uuid: string; transport_uuid: string; created_at: number };

/** The object list of a transport (E071: program id, object type, object name), in list order. */
export type TransportObjectTable = {
  transport_uuid: string;
  position: number;
  pgmid: string;
  object_type: string;
  object_name: string;
};

/** A directed link between two tasks of one project (`/tasks/{id}/relations`). */
export type TaskRelationTable = {
  id: string;
  project_id: string;
  source_task_id: string;
  target_task_id: string;
  type: string;
  created_by: string;
  created_at: number;
};

/** Project teams, their roles and the members staffed on each role (`/teams/...`). */
export type TeamTable = {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  created_at: number;
  modified_at: number;
};

export type TeamRoleTable = { id: string; team_id: string; name: string; position: number };

export type TeamMemberTable = { role_id: string; user_email: string; user_id: string; position: number };

export type WorkstreamTable = { id: string; name: string; is_custom: number };

export type DeliverableTable = {
  id: string;
  project_id: string;
  name: string;
  project_phase_id: string | null;
  description: string | null;
  is_custom: number;
};

export type EventTable = {
  seq: Generated<number>;
  event_id: string;
  resource_type: string;
  event_type: string;
  resource_id: string;
  project_id: string | null;
  actor: string | null;
  resource: unknown;
  created_at: number;
};

/** One section of runtime settings as JSON text (`settings/persisted.ts`). */
export type SettingsTable = { key: string; value: string; updated_at: number };

export type SandboxTables = {
  sandbox_meta: MetaTable;
  sandbox_settings: SettingsTable;
  sandbox_clients: ClientTable;
  sandbox_projects: ProjectTable;
  sandbox_timeboxes: TimeboxTable;
  sandbox_features: FeatureTable;
  sandbox_url_references: UrlReferenceTable;
  sandbox_external_references: ExternalReferenceTable;
  sandbox_tasks: TaskTable;
  sandbox_task_tags: TaskTagTable;
  sandbox_comments: CommentTable;
  sandbox_references: ReferenceTable;
  sandbox_task_assignments: TaskAssignmentTable;
  sandbox_solution_process_assignments: SolutionProcessAssignmentTable;
  sandbox_transports: TransportTable;
  sandbox_transport_references: TransportReferenceTable;
  sandbox_transport_objects: TransportObjectTable;
  sandbox_task_relations: TaskRelationTable;
  sandbox_teams: TeamTable;
  sandbox_team_roles: TeamRoleTable;
  sandbox_team_members: TeamMemberTable;
  sandbox_workstreams: WorkstreamTable;
  sandbox_deliverables: DeliverableTable;
  sandbox_events: EventTable;
};

export type SandboxDb = Kysely<SandboxTables>;
/** A connection or an open transaction: service functions accept either. */
export type SandboxExecutor = Kysely<SandboxTables> | Transaction<SandboxTables>;
