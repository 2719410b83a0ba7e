import type { Kysely } from 'kysely';

export type JiraIssueTable = {
  /** Numeric id as Jira shows it (`"10001"`), kept as text because Jira's JSON has it as a string. */
  id: string;
  key: string;
  project_key: string;
  /** The stored `fields` object (system fields other than project/status, plus custom fields). */
  fields: unknown;
  status: string;
  created_at: number;
  updated_at: number;
};

export type JiraProjectTable = {
  key: string;
  id: string;
  name: string;
  /** Next issue number within the project (`CALM-<n>`). */
  next_number: number;
};

/** One row per counter name; updating it first serialises concurrent creates on both engines. */
export type JiraCounterTable = { name: string; next: number };

export type JiraUserTable = {
  email: string;
  account_id: string;
  display_name: string;
  token_sealed: string;
  created_at: number;
};

export type JiraTables = {
  jira_issues: JiraIssueTable;
  jira_projects: JiraProjectTable;
  jira_counters: JiraCounterTable;
  jira_users: JiraUserTable;
};

export type JiraDb = Kysely<JiraTables>;
