import type { Kysely, Transaction } from 'kysely';

// Timestamps are epoch milliseconds. Artifact content is the zip, base64.

export type CpiPackageTable = {
  id: string;
  name: string;
  description: string;
  short_text: string;
  version: string;
  vendor: string;
  mode: string;
  supported_platform: string;
  products: string;
  keywords: string;
  countries: string;
  industries: string;
  line_of_business: string;
  created_by: string;
  creation_date: number;
  modified_by: string | null;
  modified_date: number | null;
};

export type CpiArtifactTable = {
  id: string;
  package_id: string;
  name: string;
  description: string;
  version: string;
  content: string;
  sender: string;
  receiver: string;
  created_by: string;
  created_at: number;
  modified_by: string | null;
  modified_at: number | null;
  /** Test switch (admin API): deployments of this artifact fail with this error text. */
  fail_deploy_message: string | null;
  /** Only deployments of this version fail; null: every deployment. */
  fail_deploy_version: string | null;
};

export type CpiConfigurationTable = {
  artifact_id: string;
  parameter_key: string;
  parameter_value: string;
  data_type: string;
};

export type CpiDeployTaskTable = {
  task_id: string;
  artifact_id: string;
  version: string;
  status: string;
  created_by: string;
  created_at: number;
  ended_at: number | null;
};

export type CpiRuntimeArtifactTable = {
  id: string;
  version: string;
  name: string;
  type: string;
  deployed_by: string;
  deployed_on: number;
  status: string;
  error_information: string | null;
  task_id: string | null;
};

export type CpiUserTable = {
  name: string;
  password_sealed: string;
  created_at: number;
};

export type CpiSessionTable = {
  id: string;
  user_name: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
};

export type CpiTables = {
  cpi_packages: CpiPackageTable;
  cpi_artifacts: CpiArtifactTable;
  cpi_configurations: CpiConfigurationTable;
  cpi_deploy_tasks: CpiDeployTaskTable;
  cpi_runtime_artifacts: CpiRuntimeArtifactTable;
  cpi_users: CpiUserTable;
  cpi_sessions: CpiSessionTable;
};

export type CpiDb = Kysely<CpiTables>;
export type CpiExecutor = Kysely<CpiTables> | Transaction<CpiTables>;
