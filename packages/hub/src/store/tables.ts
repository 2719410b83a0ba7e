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

export type HubTables = {
  hub_tenants: TenantsTable;
  hub_users: UsersTable;
  hub_api_tokens: ApiTokensTable;
  hub_projects: ProjectsTable;
  hub_project_members: ProjectMembersTable;
  hub_credentials: CredentialsTable;
  hub_integrations: IntegrationsTable;
};
