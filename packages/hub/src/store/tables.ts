import type { Generated } from 'kysely';
import type { RunTables } from '../runs/tables.js';

/** Row types of the hub's tables. JSON columns are text on both engines (see platform readJson). */

export type TenantRole = 'admin' | 'member';

export type TenantsTable = {
  id: string;
  name: string;
  created_at: number;
};

export type UsersTable = {
  id: string;
  tenant_id: string;
  email: string;
  name: string;
  tenant_role: TenantRole;
  /** JSON array of SAP user ids (how transports name their owners). */
  sap_user_ids: string;
  created_at: number;
  updated_at: number;
};

export type ApiTokensTable = {
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  /** SHA-256 of the secret part, hex. The token itself is shown once and never stored. */
  secret_hash: string;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  created_at: number;
};

export type ProjectsTable = {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  created_at: number;
  updated_at: number;
};

export type ProjectMembersTable = {
  project_id: string;
  user_id: string;
  tenant_id: string;
  role: string;
  created_at: number;
};

export type CredentialsTable = {
  id: string;
  tenant_id: string;
  /** Null: global to the tenant. */
  project_id: string | null;
  name: string;
  type: string;
  system: string;
  /** JSON of the public fields (client id, URLs, user name, scope). */
  settings: string;
  /** The secret fields, JSON sealed with the master key. */
  secret_sealed: string;
  /** Bumped on rotation, so cached tokens of the old secret are not reused. */
  secret_version: number;
  last_test: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  rotated_at: number | null;
};

export type IntegrationsTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  name: string;
  description: string;
  external_system: string;
  credential_id: string;
  host_url: string;
  calm_project_id: string;
  calm_project_name: string;
  enabled: number;
  webhook_secret_sealed: string;
  webhook_secret_rotated_at: number | null;
  created_by: string;
  created_at: number;
  updated_at: number;
};

export type CalmFeaturesTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  integration_id: string;
  calm_uuid: string;
  display_id: string | null;
  title: string;
  /** HTML as Cloud ALM holds it; rendered sanitised. */
  description: string | null;
  status_code: string;
  priority_code: number | null;
  responsible_id: string | null;
  /** Cloud ALM's `modifiedAt`, epoch ms. */
  modified_at: number;
  /** The entity as Cloud ALM answered it, JSON. */
  raw: string;
  obsolete: number;
  obsolete_at: number | null;
  synced_at: number;
};

export type CalmStoriesTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  integration_id: string;
  calm_id: string;
  feature_calm_uuid: string | null;
  display_id: string | null;
  title: string;
  description: string | null;
  status: string;
  sub_status: string | null;
  priority_id: number | null;
  /** E-mail or user id of the assignee, as Cloud ALM names people. */
  assignee_id: string | null;
  /** Cloud ALM's `lastChangedTimestamp`, epoch ms. */
  modified_at: number;
  raw: string;
  obsolete: number;
  obsolete_at: number | null;
  synced_at: number;
  /** When a sync last confirmed `feature_calm_uuid` (links have no timestamp of their own). */
  link_synced_at: number | null;
};

export type CalmTransportsTable = {
  integration_id: string;
  calm_uuid: string;
  tenant_id: string;
  /** The transport request number, e.g. S4DK900121. */
  transport_id: string;
  description: string | null;
  owner: string | null;
  status: string;
  source_system: string | null;
  target_system: string | null;
  modified_at: number;
  raw: string;
  obsolete: number;
  synced_at: number;
};

export type CalmFeatureTransportsTable = {
  integration_id: string;
  feature_calm_uuid: string;
  transport_calm_uuid: string;
  synced_at: number;
};

export type CalmCodeListsTable = {
  integration_id: string;
  /** `feature_status` or `feature_priority`. */
  list: string;
  code: string;
  name: string;
};

export type StatusTransitionsTable = {
  id: Generated<number>;
  tenant_id: string;
  integration_id: string;
  item_kind: 'feature' | 'story';
  /** The hub's id of the feature or story. */
  item_id: string;
  calm_id: string;
  from_status: string | null;
  to_status: string;
  /** Cloud ALM's timestamp of the change, epoch ms. */
  changed_at: number;
  /** Which path saw it first: full, delta, sweep or webhook. */
  source: string;
  recorded_at: number;
};

export type SyncStateTable = {
  integration_id: string;
  features_watermark: number | null;
  tasks_watermark: number | null;
  transports_watermark: number | null;
  last_full_at: number | null;
  last_delta_at: number | null;
  last_sweep_at: number | null;
};

export type SyncRunsTable = {
  id: string;
  tenant_id: string;
  integration_id: string;
  mode: 'full' | 'delta' | 'sweep';
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  /** A user id, or `schedule` for the reconcile. */
  requested_by: string;
  progress: string;
  counts: string;
  error: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
};

/** Hub-side fields of a user story (never sent to Cloud ALM), one row once someone edits them. */
export type StoryFieldsTable = {
  story_id: string;
  tenant_id: string;
  notes: string | null;
  /** JSON array of label strings. */
  labels: string;
  updated_by: string;
  updated_at: number;
};

export type ComponentKind = 'abap_transport' | 'cpi_artifact' | 'deliverable';

/** A technical artifact attached to a user story. Detached rows stay, stamped, for the record. */
export type StoryComponentsTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  story_id: string;
  kind: ComponentKind;
  /** The transport request number for `abap_transport`, else null (the conflict check reads it). */
  transport_id: string | null;
  /** The kind's fields, JSON (see components/schemas.ts). */
  details: string;
  created_by: string;
  created_at: number;
  updated_by: string;
  updated_at: number;
  detached_by: string | null;
  detached_at: number | null;
};

/** One audit entry; append-only (no code updates or deletes a row). JSON columns are text. */
export type AuditLogTable = {
  id: Generated<number>;
  tenant_id: string;
  project_id: string | null;
  occurred_at: number;
  actor_kind: string;
  actor_id: string;
  /** The user's e-mail, the integration's name, or the system part. */
  actor_label: string;
  /** `tenant_admin`, a project role, or null. */
  role: string | null;
  kind: string;
  object_kind: string;
  object_id: string;
  object_label: string | null;
  before: string | null;
  after: string | null;
  request_id: string | null;
};

export type WebhookInboxTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  integration_id: string;
  /** `webhook-id`, else resource id + event type + the resource's timestamp, else a hash of the body. */
  dedupe_key: string;
  received_at: number;
  /** The delivery's headers (credentials left out), JSON. */
  headers: string;
  /** The raw body as received. */
  body: string;
  self_test: number;
  state: 'received' | 'processed' | 'ignored' | 'failed';
  reason: string | null;
  resource_type: string | null;
  event_type: string | null;
  resource_id: string | null;
  item_kind: 'feature' | 'story' | null;
  duplicates: number;
  processed_at: number | null;
};

/**
 * Before the landing journal (0013): deliveries stored by the edge on SQLite, not yet moved into the inbox: `seq` is the arrival
 * order. Few values, each bound for every delivery of a burst: tenant and project come from the
 * integration when the row is moved, and what the body is about is one value (`about`). `state` and `reason` are set only when the edge decided
 * them (a self-test, an ignored delivery); null means received.
 */
export type WebhookLandingTable = Pick<
  WebhookInboxTable,
  | 'id'
  | 'integration_id'
  | 'dedupe_key'
  | 'received_at'
  | 'headers'
  | 'body'
  | 'self_test'
  | 'reason'
  | 'duplicates'
> & {
  seq: number;
  state: WebhookInboxTable['state'] | null;
  /** resource_type, event_type, resource_id and item_kind in one value (see aboutOf). */
  about: string;
};

export type WebhookStateTable = {
  integration_id: string;
  basic_user: string | null;
  basic_password_sealed: string | null;
  first_event_at: number | null;
  last_event_at: number | null;
  self_test_at: number | null;
};

export type StatusActionsTable = {
  integration_id: string;
  status_code: string;
  action: 'guard' | 'promote' | 'none';
  target_stage: string | null;
  enabled: number;
};

export type StoryGuardsTable = {
  story_id: string;
  transition_id: number;
  tenant_id: string;
  passed: number;
  /** What is missing, JSON: [{ kind: 'no_transport' } | { kind: 'not_released', transport }]. */
  missing: string;
  checked_at: number;
};

export type PromotionRequestsTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  story_id: string;
  target_stage: string;
  transition_id: number | null;
  /** A user id, or `integration:<id>` when Cloud ALM's lifecycle asked. */
  requested_by: string;
  state: 'requested' | 'started' | 'done' | 'cancelled';
  created_at: number;
};

export type WriteBackTargetKind = 'story_comment' | 'feature_line' | 'feature_reference';
export type WriteBackState = 'pending' | 'written' | 'failed';

/** A write the hub owes Cloud ALM (writeback/): committed with its action, flushed exactly once. */
export type WriteBacksTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  integration_id: string;
  target_kind: WriteBackTargetKind;
  /** The task id (comments) or the feature uuid (lines, references) in Cloud ALM. */
  target_calm_id: string;
  /** The hub story the action is about. */
  item_id: string;
  /** A `WriteBackAction` (writeback/actions.ts). */
  action: string;
  /** `[calmhub:<id>]`, carried in the written text, so a write of unknown outcome can be found. */
  marker: string;
  /** The comment or line (plain text), or the reference's name. */
  text: string;
  /** The reference's URL (feature_reference only). */
  url: string | null;
  /** Rows of one batch key are flushed together: one comment, one PATCH. */
  batch_key: string;
  state: WriteBackState;
  /** Write attempts started; pending with attempts > 0 means the last outcome is unknown. */
  attempts: number;
  last_error: string | null;
  /** The comment id or reference id Cloud ALM answered. */
  remote_id: string | null;
  created_at: number;
  updated_at: number;
  written_at: number | null;
};

/** Write-back switches of an integration; a kind without a row is on. */
export type WriteBackSettingsTable = {
  integration_id: string;
  /** An action kind or a target kind. */
  kind: string;
  enabled: number;
  updated_by: string;
  updated_at: number;
};

/** A release pipeline of a project; its definitions are `hub_pipeline_versions`. */
export type PipelinesTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  /** The current version's `name`, unique among the project's live pipelines. */
  name: string;
  /** 1 for the project's default pipeline (exactly one while the project has any). */
  is_default: number;
  current_version: number;
  created_by: string;
  created_at: number;
  updated_by: string;
  updated_at: number;
  /** Deleted pipelines stay (runs keep their versions), stamped. */
  deleted_by: string | null;
  deleted_at: number | null;
};

/** One saved definition of a pipeline; never changed. */
export type PipelineVersionsTable = {
  pipeline_id: string;
  version: number;
  tenant_id: string;
  /** A `PipelineDefinition` (pipelines/definition.ts) with its defaults filled in, JSON. */
  definition: string;
  created_by: string;
  created_at: number;
};

/** A story's explicit pipeline; without a row the project's default applies. */
export type StoryPipelinesTable = {
  story_id: string;
  tenant_id: string;
  pipeline_id: string;
  assigned_by: string;
  assigned_at: number;
};

export type DependencySource = 'hub' | 'calm';

/** Story `story_id` depends on story `depends_on_story_id` (same tenant, never itself). */
export type StoryDependenciesTable = {
  tenant_id: string;
  story_id: string;
  depends_on_story_id: string;
  /** `hub`: added by a user; `calm`: a Cloud ALM task relation, replaced on every refresh. */
  source: DependencySource;
  /** A user id, or `calm` for relations read from Cloud ALM. */
  created_by: string;
  created_at: number;
};

export type HubTables = RunTables & {
  hub_tenants: TenantsTable;
  hub_users: UsersTable;
  hub_api_tokens: ApiTokensTable;
  hub_projects: ProjectsTable;
  hub_project_members: ProjectMembersTable;
  hub_credentials: CredentialsTable;
  hub_integrations: IntegrationsTable;
  hub_calm_features: CalmFeaturesTable;
  hub_calm_stories: CalmStoriesTable;
  hub_calm_transports: CalmTransportsTable;
  hub_calm_feature_transports: CalmFeatureTransportsTable;
  hub_calm_code_lists: CalmCodeListsTable;
  hub_status_transitions: StatusTransitionsTable;
  hub_sync_state: SyncStateTable;
  hub_sync_runs: SyncRunsTable;
  hub_webhook_inbox: WebhookInboxTable;
  hub_webhook_landing: WebhookLandingTable;
  hub_webhook_landing_moved: { id: number; generation: number; position: number };
  hub_webhook_state: WebhookStateTable;
  hub_status_actions: StatusActionsTable;
  hub_story_guards: StoryGuardsTable;
  hub_promotion_requests: PromotionRequestsTable;
  hub_story_fields: StoryFieldsTable;
  hub_story_components: StoryComponentsTable;
  hub_audit_log: AuditLogTable;
  hub_writebacks: WriteBacksTable;
  hub_writeback_settings: WriteBackSettingsTable;
  hub_pipelines: PipelinesTable;
  hub_pipeline_versions: PipelineVersionsTable;
  hub_story_pipelines: StoryPipelinesTable;
  hub_story_dependencies: StoryDependenciesTable;
};
