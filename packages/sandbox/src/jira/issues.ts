import { readJson, writeJson } from '@calmhub/platform';
import type { JiraUser } from './auth.js';
import { issueNotFound, JiraError } from './errors.js';
import type { JiraDb, JiraIssueTable } from './tables.js';

/** The issue types of a default Jira Software project (ids as on a fresh Cloud site). */
export const ISSUE_TYPES: Record<string, { id: string; subtask: boolean }> = {
  Task: { id: '10001', subtask: false },
  Bug: { id: '10002', subtask: false },
  Story: { id: '10003', subtask: false },
  'Sub-task': { id: '10004', subtask: true },
  Epic: { id: '10005', subtask: false },
};

/** Statuses of the default workflow; `status` is not a field, only transitions change it. */
export const STATUSES: Record<string, string> = {
  'To Do': 'new',
  'In Progress': 'indeterminate',
  Done: 'done',
};

/** Fields the default create/edit screens carry; anything else is rejected as Jira does. */
const SETTABLE = new Set([
  'summary',
  'description',
  'issuetype',
  'project',
  'priority',
  'labels',
  'assignee',
  'reporter',
  'duedate',
  'parent',
  'components',
  'environment',
]);
const settable = (name: string) => SETTABLE.has(name) || /^customfield_\d+$/.test(name);

type Fields = Record<string, unknown>;

function object(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

function issueTypeName(value: unknown): string | undefined {
  const ref = object(value);
  if (!ref) return undefined;
  // Own keys only: a client's `constructor` is not an issue type.
  if (typeof ref.name === 'string') return Object.hasOwn(ISSUE_TYPES, ref.name) ? ref.name : undefined;
  if (typeof ref.id === 'string')
    return Object.entries(ISSUE_TYPES).find(([, type]) => type.id === ref.id)?.[0];
  return undefined;
}

/** Jira's timestamp format: `2026-11-21T14:24:55.000+0000`. */
export const jiraTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

export async function findIssue(db: JiraDb, idOrKey: string): Promise<JiraIssueTable> {
  // PostgreSQL cannot compare text holding NUL; no issue has such an id.
  if (idOrKey.includes('\u0000')) throw issueNotFound();
  const column = /^\d+$/.test(idOrKey) ? 'id' : 'key';
  const row = await db
    .selectFrom('jira_issues')
    .selectAll()
    .where(column, '=', column === 'key' ? idOrKey.toUpperCase() : idOrKey)
    .executeTakeFirst();
  if (!row) throw issueNotFound();
  return row;
}

/** Checks a `fields` object for create or edit; every problem lands in `errors`, as Jira reports them. */
function check(fields: Fields, creating: boolean, errors: Record<string, string>): void {
  for (const name of Object.keys(fields))
    if (!settable(name) || (!creating && name === 'project'))
      errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
  if ((creating || 'summary' in fields) && (typeof fields.summary !== 'string' || !fields.summary.trim()))
    errors.summary = 'You must specify a summary of the issue.';
  if (creating || 'issuetype' in fields) {
    const type = issueTypeName(fields.issuetype);
    if (fields.issuetype === undefined) errors.issuetype = 'Specify an issue type';
    else if (!type) errors.issuetype = 'Specify a valid issue type';
    else if (ISSUE_TYPES[type]?.subtask && !object(fields.parent))
      errors.parent = 'Issue type is a sub-task but parent issue key or id not specified.';
  }
  if ('description' in fields && fields.description !== null && typeof fields.description !== 'string')
    errors.description = 'Operation value must be a string';
}

function requestFields(body: unknown): Fields {
  const root = object(body);
  if (!root) throw new JiraError(400, ['Can not deserialize the request body: a JSON object is required.']);
  const fields = root.fields === undefined ? {} : object(root.fields);
  if (!fields) throw new JiraError(400, ["Can not deserialize instance of 'fields' out of a non-object."]);
  return fields;
}

/** Without parent/issuetype/project resolution: those are stored as names/keys and rendered on read. */
function storable(fields: Fields): Fields {
  const { project: _project, issuetype, ...rest } = fields;
  return { ...rest, issuetype: issueTypeName(issuetype) };
}

export async function createIssue(
  db: JiraDb,
  body: unknown,
  user: JiraUser,
  now: number,
): Promise<JiraIssueTable> {
  const fields = requestFields(body);
  const errors: Record<string, string> = {};
  check(fields, true, errors);
  const projectRef = object(fields.project);
  const project = projectRef
    ? await db
        .selectFrom('jira_projects')
        .selectAll()
        .where((eb) =>
          typeof projectRef.key === 'string'
            ? eb('key', '=', projectRef.key)
            : eb('id', '=', String(projectRef.id ?? '')),
        )
        .executeTakeFirst()
    : undefined;
  if (!project) errors.project = 'Specify a valid project ID or key';
  const parentRef = object(fields.parent);
  if (parentRef) {
    const parentKey = String(parentRef.key ?? parentRef.id ?? '');
    try {
      const parent = await findIssue(db, parentKey);
      fields.parent = { key: parent.key };
    } catch {
      errors.parent = `Could not find issue by id or key.`;
    }
  }
  if (Object.keys(errors).length > 0 || !project) throw new JiraError(400, [], errors);
  return db.transaction().execute(async (trx) => {
    // Update first: the row lock serialises concurrent creates, so ids and numbers never collide.
    await trx
      .updateTable('jira_counters')
      .set((eb) => ({ next: eb('next', '+', 1) }))
      .where('name', '=', 'issue')
      .execute();
    const counter = await trx
      .selectFrom('jira_counters')
      .select('next')
      .where('name', '=', 'issue')
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('jira_projects')
      .set((eb) => ({ next_number: eb('next_number', '+', 1) }))
      .where('key', '=', project.key)
      .execute();
    const { next_number } = await trx
      .selectFrom('jira_projects')
      .select('next_number')
      .where('key', '=', project.key)
      .executeTakeFirstOrThrow();
    const row: JiraIssueTable = {
      id: String(counter.next),
      key: `${project.key}-${Number(next_number) - 1}`,
      project_key: project.key,
      fields: writeJson({ ...storable(fields), reporter: user.accountId }),
      status: 'To Do',
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto('jira_issues').values(row).execute();
    return row;
  });
}

/** `PUT /issue/{idOrKey}`: `fields` replace values; `update` takes `[{set: value}]` operations. */
export async function editIssue(db: JiraDb, idOrKey: string, body: unknown, now: number): Promise<void> {
  const issue = await findIssue(db, idOrKey);
  const fields = requestFields(body);
  const update = object(object(body)?.update) ?? {};
  const errors: Record<string, string> = {};
  for (const [name, operations] of Object.entries(update)) {
    const ops = Array.isArray(operations) ? operations : [];
    for (const op of ops) {
      const set = object(op);
      if (set && 'set' in set) fields[name] = set.set;
      else errors[name] = `Operation not supported by the emulator: only 'set' is.`;
    }
  }
  check(fields, false, errors);
  if (Object.keys(errors).length > 0) throw new JiraError(400, [], errors);
  const stored = readJson<Fields>(issue.fields);
  await db
    .updateTable('jira_issues')
    .set({
      fields: writeJson({
        ...stored,
        ...storable({ ...fields, issuetype: fields.issuetype ?? { name: stored.issuetype } }),
      }),
      updated_at: now,
    })
    .where('id', '=', issue.id)
    .execute();
}

export async function transitionIssue(
  db: JiraDb,
  idOrKey: string,
  status: string,
  now: number,
): Promise<void> {
  const issue = await findIssue(db, idOrKey);
  if (!STATUSES[status])
    throw new JiraError(400, [`Unknown status '${status}' (one of ${Object.keys(STATUSES).join(', ')})`]);
  await db.updateTable('jira_issues').set({ status, updated_at: now }).where('id', '=', issue.id).execute();
}

export async function listIssues(db: JiraDb): Promise<JiraIssueTable[]> {
  return db.selectFrom('jira_issues').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** An issue as `GET /rest/api/2/issue/{idOrKey}` answers it. */
export async function renderIssue(
  db: JiraDb,
  row: JiraIssueTable,
  baseUrl: string,
): Promise<{ id: string; key: string; self: string; fields: Fields }> {
  const api = `${baseUrl}/rest/api/2`;
  const stored = readJson<Fields>(row.fields);
  const project = await db
    .selectFrom('jira_projects')
    .selectAll()
    .where('key', '=', row.project_key)
    .executeTakeFirst();
  const typeName = typeof stored.issuetype === 'string' ? stored.issuetype : 'Task';
  const type = ISSUE_TYPES[typeName] ?? { id: '10001', subtask: false };
  const reporter = await db
    .selectFrom('jira_users')
    .select(['account_id', 'display_name', 'email'])
    .where('account_id', '=', String(stored.reporter ?? ''))
    .executeTakeFirst();
  return {
    id: row.id,
    key: row.key,
    self: `${api}/issue/${row.id}`,
    fields: {
      ...stored,
      project: {
        self: `${api}/project/${project?.id ?? ''}`,
        id: project?.id ?? '',
        key: row.project_key,
        name: project?.name ?? row.project_key,
      },
      issuetype: { self: `${api}/issuetype/${type.id}`, id: type.id, name: typeName, subtask: type.subtask },
      status: {
        name: row.status,
        statusCategory: { key: STATUSES[row.status] ?? 'new' },
      },
      reporter: reporter
        ? { accountId: reporter.account_id, displayName: reporter.display_name, emailAddress: reporter.email }
        : null,
      created: jiraTime(Number(row.created_at)),
      updated: jiraTime(Number(row.updated_at)),
    },
  };
}
