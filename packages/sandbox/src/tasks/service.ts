import { randomUUID } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import { canSeeProject, type Principal } from '../auth/tokens.js';
import { type Emit, withEvents, withoutNulls } from '../events/events.js';
import { visibleProject } from '../projects/service.js';
import { asBody, type Body, bool, has, num, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import { DAY_MS, dayStart, isIsoDate, isoTask, parseTimestamp } from '../shared/time.js';
import type { SandboxExecutor, TaskTable, TimeboxTable } from '../store/tables.js';
import {
  APPROVAL_STATES,
  APPROVAL_TRANSITIONS,
  DEFAULT_SUB_STATUS,
  isTaskType,
  ROLES,
  SUB_STATUSES,
  TASK_PRIORITIES,
  TASK_STATUSES,
  TASK_TYPES,
  type TaskType,
} from './catalog.js';
import { parseTags, setTaskTags, tagsOfTask, tagsOfTasks } from './tags.js';

/** A list row (TKM-SPEC `Task`): every attribute except the description and timebox details. */
export interface Task {
  id: string;
  projectId: string;
  title: string;
  type: string;
  status: string;
  subStatus: string | null;
  externalId: string | null;
  startDate: string | null;
  dueDate: string | null;
  priorityId: number | null;
  assigneeId: string | null;
  assigneeName: string | null;
  approvalState: string | null;
  parentId: string | null;
  assignedRoleId: string | null;
  assignedRoleName: string | null;
  scopeId: string | null;
  scopeName: string | null;
  storyPoints: number | null;
  effort: number | null;
  obsolete: boolean;
  workstream: string | null;
  deliverableId: string | null;
  involvedParties: string | null;
  timeboxId: string | null;
  tags: string[];
  createdTimestamp: string;
  lastChangedTimestamp: string;
}

/** `TaskWithDescription`: GET by id, POST and PATCH answers, and the change events. */
export interface TaskWithDescription extends Task {
  timeboxName: string | null;
  timeboxStartDate: string | null;
  timeboxEndDate: string | null;
  description: string | null;
}

/** `tags` are kept in their own table: pass them when the task has any. */
export function toTask(row: TaskTable, tags: readonly string[] = []): Task {
  return {
    id: row.id,
    projectId: row.project_id,
    title: row.title,
    type: row.type,
    status: row.status,
    subStatus: row.sub_status,
    externalId: row.external_id,
    startDate: row.start_date,
    dueDate: row.due_date,
    priorityId: row.priority_id === null ? null : Number(row.priority_id),
    assigneeId: row.assignee_id,
    // No user directory here: the display name is the id, as in the sample tenant output.
    assigneeName: row.assignee_id,
    approvalState: row.approval_state,
    parentId: row.parent_id,
    assignedRoleId: row.assigned_role_id,
    assignedRoleName: ROLES.find((role) => role.id === row.assigned_role_id)?.name ?? null,
    scopeId: row.scope_id,
    scopeName: null,
    storyPoints: row.story_points === null ? null : Number(row.story_points),
    effort: row.effort === null ? null : Number(row.effort),
    obsolete: row.obsolete === 1,
    workstream: row.workstream,
    deliverableId: row.deliverable_id,
    involvedParties: row.involved_parties,
    timeboxId: row.timebox_id,
    tags: [...tags],
    createdTimestamp: isoTask(Number(row.created_at)),
    lastChangedTimestamp: isoTask(Number(row.last_changed_at)),
  };
}

export function toTaskWithDescription(
  row: TaskTable,
  timebox: TimeboxTable | undefined,
  tags: readonly string[] = [],
): TaskWithDescription {
  return {
    ...toTask(row, tags),
    timeboxName: timebox?.name ?? null,
    timeboxStartDate: timebox?.start_date ?? null,
    timeboxEndDate: timebox?.end_date ?? null,
    description: row.description,
  };
}

export async function taskWithDescription(db: SandboxExecutor, row: TaskTable): Promise<TaskWithDescription> {
  const timebox = row.timebox_id
    ? await db.selectFrom('sandbox_timeboxes').selectAll().where('id', '=', row.timebox_id).executeTakeFirst()
    : undefined;
  return toTaskWithDescription(row, timebox, await tagsOfTask(db, row.id));
}

/** List rows with their tags. */
export async function toTasks(db: SandboxExecutor, rows: readonly TaskTable[]): Promise<Task[]> {
  const tags = await tagsOfTasks(db, rows);
  return rows.map((row) => toTask(row, tags.get(row.id)));
}

/** A task the caller may see: 404 when unknown (or not a GUID), 403 when its project is hidden. */
export async function visibleTask(
  db: SandboxExecutor,
  principal: Principal | null,
  id: string,
): Promise<TaskTable> {
  const row = isGuid(id)
    ? await db.selectFrom('sandbox_tasks').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst()
    : undefined;
  if (!row) throw notFound(`Task with id ${id} not found`);
  if (principal && !canSeeProject(principal, row.project_id))
    throw new CalmError(403, 'No authorization for this task');
  return row;
}

export async function emitTask(
  db: SandboxExecutor,
  emit: Emit,
  eventType: 'TASK.CREATED' | 'TASK.UPDATED',
  id: string,
): Promise<TaskWithDescription> {
  const row = await db.selectFrom('sandbox_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const task = await taskWithDescription(db, row);
  // The push sample omits null fields (reference §8); the API answers keep them.
  await emit({ eventType, resourceId: id, projectId: task.projectId, resource: withoutNulls({ ...task }) });
  return task;
}

// ---------------------------------------------------------------------------------------------
// List

function comparison(name: string, raw: string): { op: 'gt' | 'eq' | 'lt'; value: string } {
  const match = /^(gt|eq|lt):(.+)$/.exec(raw);
  if (!match?.[1] || !match[2])
    throw badRequest(`Invalid ${name} '${raw}': expected gt:, eq: or lt: followed by a value`);
  return { op: match[1] as 'gt' | 'eq' | 'lt', value: match[2] };
}

function nonNegative(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > 2_147_483_647) {
    throw badRequest(`Invalid ${name} '${raw}': an integer >= ${min} is expected`);
  }
  return value;
}

/** The query parameters `GET /tasks` knows; others are ignored with a `Warning` header. */
export const TASK_LIST_PARAMS = [
  'projectId',
  'offset',
  'limit',
  'type',
  'status',
  'subStatus',
  'assigneeId',
  'id',
  'tags',
  'lastChangedDate',
  'lastChangedTimestamp',
] as const;

/** `GET /tasks`: projectId required, plain filters, offset/limit, no `$` options, no count. */
export async function listTasks(
  db: SandboxExecutor,
  principal: Principal,
  params: URLSearchParams,
): Promise<Task[]> {
  for (const key of params.keys()) {
    if (key.startsWith('$')) throw badRequest(`Query option ${key} is not supported yet`);
  }
  const projectKey = params.get('projectId');
  if (!projectKey) throw badRequest("Required request parameter 'projectId' is missing");
  if (!isGuid(projectKey)) throw badRequest(`Invalid projectId '${projectKey}': a UUID is expected`);
  const project = await visibleProject(db, principal, projectKey);

  let query = db.selectFrom('sandbox_tasks').selectAll().where('project_id', '=', project.id);
  for (const [param, column] of [
    ['type', 'type'],
    ['status', 'status'],
    ['subStatus', 'sub_status'],
    ['assigneeId', 'assignee_id'],
  ] as const) {
    const value = params.get(param);
    if (value !== null) query = query.where(column, '=', value);
  }
  const ids = params.get('id');
  if (ids !== null) {
    const list = ids
      .split(',')
      .map((id) => id.trim().toLowerCase())
      .filter((id) => id !== '');
    query = list.length === 0 ? query.where('id', '=', '') : query.where('id', 'in', list);
  }
  // `tags=a&tags=b`: tasks carrying any of the tags (the reference names the parameter, not
  // whether several tags combine with "and" or "or"; "or" is INFERRED, like a UI tag filter).
  const tags = params.getAll('tags').filter((tag) => tag.trim() !== '');
  if (tags.length > 0) {
    query = query.where(
      'id',
      'in',
      db
        .selectFrom('sandbox_task_tags')
        .select('task_id')
        .where(
          'tag',
          'in',
          tags.map((tag) => tag.trim()),
        ),
    );
  }
  const date = params.get('lastChangedDate');
  if (date !== null) {
    const { op, value } = comparison('lastChangedDate', date);
    if (!isIsoDate(value)) throw badRequest(`Invalid lastChangedDate '${date}': expected a date YYYY-MM-DD`);
    const start = dayStart(value);
    if (op === 'gt') query = query.where('last_changed_at', '>=', start + DAY_MS);
    else if (op === 'lt') query = query.where('last_changed_at', '<', start);
    else query = query.where('last_changed_at', '>=', start).where('last_changed_at', '<', start + DAY_MS);
  }
  const timestamp = params.get('lastChangedTimestamp');
  if (timestamp !== null) {
    const { op, value } = comparison('lastChangedTimestamp', timestamp);
    // A '+' offset sent unencoded arrives as a space; read it as the client meant it.
    const ms = parseTimestamp(value.replace(/ (\d{2}:\d{2})$/, '+$1'));
    if (Number.isNaN(ms))
      throw badRequest(
        `Invalid lastChangedTimestamp '${timestamp}': expected an ISO-8601 timestamp with offset`,
      );
    query = query.where('last_changed_at', op === 'gt' ? '>' : op === 'lt' ? '<' : '=', ms);
  }
  const offsetRaw = params.get('offset');
  const limitRaw = params.get('limit');
  const offset = offsetRaw === null ? 0 : nonNegative('offset', offsetRaw, 0);
  query = query.orderBy('created_at').orderBy('id');
  if (limitRaw !== null) query = query.limit(nonNegative('limit', limitRaw, 1));
  else if (offset > 0) query = query.limit(Number.MAX_SAFE_INTEGER);
  if (offset > 0) query = query.offset(offset);
  const rows = await query.execute();
  return toTasks(db, rows);
}

// ---------------------------------------------------------------------------------------------
// Create / update

/**
 * Fields of the task object the server computes or sets: never written. A client that writes back
 * what it read (read, change, write) sends them; they are ignored when null or unchanged, and a
 * real change is a 400 naming the field. `lastChangedTimestamp` is always ignored: it moves
 * whenever someone else edits the task, and a tenant has no optimistic locking (reference §7).
 */
const READ_ONLY = [
  'id',
  'assigneeName',
  'assignedRoleName',
  'scopeName',
  'createdTimestamp',
  'lastChangedTimestamp',
  'timeboxName',
  'timeboxStartDate',
  'timeboxEndDate',
] as const;
const CREATE_FIELDS = [
  'projectId',
  'title',
  'type',
  'externalId',
  'startDate',
  'dueDate',
  'priorityId',
  'assigneeId',
  'parentId',
  'description',
  'assignedRoleId',
  'scopeId',
  'storyPoints',
  'effort',
  'workstream',
  'deliverableId',
  'involvedParties',
  'timeboxId',
  'tags',
];
/**
 * PATCH fields a create also applies, so a task read from one project can be posted into another
 * as it is (a copy keeps its status, sub-status and obsolete flag).
 */
const CREATE_STATE_FIELDS = ['status', 'subStatus', 'approvalState', 'obsolete'];
const PATCH_FIELDS = [
  'title',
  'status',
  'subStatus',
  'externalId',
  'startDate',
  'dueDate',
  'priorityId',
  'assigneeId',
  'description',
  'approvalState',
  'assignedRoleId',
  'scopeId',
  'storyPoints',
  'effort',
  'workstream',
  'deliverableId',
  'obsolete',
  'involvedParties',
  'timeboxId',
  'tags',
];
const NOT_PATCHABLE = ['type', 'projectId', 'parentId'];

/** Whether a read-only value sent back is null or the current one (ids ignore case, timestamps compare as instants). */
function unchanged(key: string, sent: unknown, current: unknown): boolean {
  if (sent === null || sent === current) return true;
  if (typeof sent !== 'string' || typeof current !== 'string') return false;
  if (key === 'id') return sent.toLowerCase() === current.toLowerCase();
  if (key.endsWith('Timestamp')) {
    const instant = parseTimestamp(sent);
    return !Number.isNaN(instant) && instant === parseTimestamp(current);
  }
  return false;
}

function checkReadOnly(body: Body, current: TaskWithDescription): void {
  for (const key of READ_ONLY) {
    if (!has(body, key) || key === 'lastChangedTimestamp') continue;
    if (!unchanged(key, body[key], current[key]))
      throw badRequest(`Property '${key}' is read-only and cannot be changed`);
  }
}

/** `approvalState: null` on a task type without approval is what GET shows: nothing to apply. */
function dropNullApproval(body: Body, type: string): void {
  if (type !== 'CALMREQU' && has(body, 'approvalState') && body.approvalState === null)
    delete body.approvalState;
}

function date(body: Body, key: string): string | null | undefined {
  const value = str(body, key);
  if (typeof value === 'string' && !isIsoDate(value))
    throw badRequest(`Invalid ${key} '${value}': expected a date YYYY-MM-DD`);
  return value;
}

function guidField(body: Body, key: string): string | null | undefined {
  const value = str(body, key);
  if (typeof value === 'string') {
    if (!isGuid(value)) throw badRequest(`Invalid ${key} '${value}': a UUID is expected`);
    return value.toLowerCase();
  }
  return value;
}

/** Fields create and patch share, validated; `undefined` = not sent. */
function commonFields(body: Body): Partial<TaskTable> {
  const fields: Partial<TaskTable> = {};
  if (has(body, 'title')) fields.title = requiredStr(body, 'title', 500);
  const set = <K extends keyof TaskTable>(key: K, value: TaskTable[K] | undefined) => {
    if (value !== undefined) fields[key] = value;
  };
  set('external_id', str(body, 'externalId', { max: 255 }));
  set('start_date', date(body, 'startDate'));
  set('due_date', date(body, 'dueDate'));
  const priority = num(body, 'priorityId', { integer: true });
  if (
    priority !== undefined &&
    priority !== null &&
    !(TASK_PRIORITIES as readonly number[]).includes(priority)
  ) {
    throw badRequest(`Invalid priorityId ${priority}; allowed values are ${TASK_PRIORITIES.join(', ')}`);
  }
  set('priority_id', priority);
  set('assignee_id', str(body, 'assigneeId', { max: 255 }));
  set('description', str(body, 'description'));
  set('assigned_role_id', guidField(body, 'assignedRoleId'));
  set('scope_id', guidField(body, 'scopeId'));
  set('story_points', num(body, 'storyPoints', { min: 0 }));
  set('effort', num(body, 'effort', { min: 0 }));
  set('workstream', str(body, 'workstream', { max: 1000 }));
  set('deliverable_id', guidField(body, 'deliverableId'));
  set('involved_parties', str(body, 'involvedParties', { max: 4000 }));
  set('timebox_id', guidField(body, 'timeboxId'));
  return fields;
}

async function checkReferences(
  db: SandboxExecutor,
  row: Pick<TaskTable, 'project_id' | 'type' | 'start_date' | 'due_date'>,
  fields: Partial<TaskTable>,
): Promise<void> {
  const start = fields.start_date !== undefined ? fields.start_date : row.start_date;
  const due = fields.due_date !== undefined ? fields.due_date : row.due_date;
  if (start && due && due < start) throw badRequest('dueDate must not be before startDate');
  if (row.type === 'CALMST' && fields.effort !== undefined && fields.effort !== null)
    throw badRequest('Effort cannot be set on sub-tasks');
  if (fields.timebox_id) {
    const timebox = await db
      .selectFrom('sandbox_timeboxes')
      .selectAll()
      .where('id', '=', fields.timebox_id)
      .executeTakeFirst();
    if (!timebox || timebox.project_id !== row.project_id)
      throw badRequest(`Timebox ${fields.timebox_id} does not exist in the task's project`);
    if (timebox.closed === 1)
      throw badRequest(`Timebox ${fields.timebox_id} is closed and cannot be assigned`);
  }
  if (fields.deliverable_id) {
    const deliverable = await db
      .selectFrom('sandbox_deliverables')
      .select('project_id')
      .where('id', '=', fields.deliverable_id)
      .executeTakeFirst();
    if (!deliverable || deliverable.project_id !== row.project_id)
      throw badRequest(`Deliverable ${fields.deliverable_id} does not exist in the task's project`);
  }
}

/**
 * `POST /tasks`. Also takes a task exactly as `GET /tasks/{id}` returns it (typically with another
 * `projectId`): id, timestamps and computed fields are ignored, status, sub-status, approval state
 * and obsolete flag are applied. What cannot be copied (a timebox or deliverable of the source
 * project, a final approval) is left out and named in `warnings`.
 */
export async function createTask(
  ctx: SandboxContext,
  principal: Principal,
  raw: unknown,
  warnings: string[] = [],
): Promise<TaskWithDescription> {
  const body = { ...asBody(raw) };
  rejectUnknown(body, [...CREATE_FIELDS, ...CREATE_STATE_FIELDS, ...READ_ONLY]);
  for (const key of READ_ONLY) delete body[key];
  const projectKey = requiredStr(body, 'projectId');
  if (!isGuid(projectKey)) throw badRequest(`Invalid projectId '${projectKey}': a UUID is expected`);
  const title = requiredStr(body, 'title', 500);
  const typeValue = str(body, 'type') ?? 'CALMTASK';
  if (!isTaskType(typeValue))
    throw badRequest(`Invalid type '${typeValue}'; allowed values are ${TASK_TYPES.join(', ')}`);
  const type: TaskType = typeValue;
  const fields = commonFields(body);
  const tags = parseTags(body);
  const obsolete = bool(body, 'obsolete');
  const parentId = guidField(body, 'parentId') ?? null;
  if (type === 'CALMST' && !parentId) throw badRequest('parentId is mandatory for sub-tasks (type CALMST)');
  if (type !== 'CALMST' && parentId) throw badRequest('parentId can only be set for sub-tasks (type CALMST)');
  dropNullApproval(body, type);
  if (type === 'CALMREQU' && (body.approvalState === 'APPROVED' || body.approvalState === 'REJECTED')) {
    warnings.push(
      `approvalState ${body.approvalState} not copied: a new requirement starts its approval from the beginning`,
    );
    delete body.approvalState;
  }

  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const project = await visibleProject(trx, principal, projectKey);
    if (parentId) {
      const parent = await trx
        .selectFrom('sandbox_tasks')
        .selectAll()
        .where('id', '=', parentId)
        .executeTakeFirst();
      if (!parent || parent.project_id !== project.id)
        throw badRequest(`Parent task ${parentId} does not exist in project ${project.id}`);
      if (parent.type === 'CALMST') throw badRequest('A sub-task cannot be the parent of another sub-task');
    }
    // A copy from another project names that project's sprint and deliverable: left out, not a 400.
    if (fields.timebox_id) {
      const timebox = await trx
        .selectFrom('sandbox_timeboxes')
        .select('project_id')
        .where('id', '=', fields.timebox_id)
        .executeTakeFirst();
      if (timebox && timebox.project_id !== project.id) {
        warnings.push(`timeboxId ${fields.timebox_id} belongs to another project and was not copied`);
        fields.timebox_id = null;
      }
    }
    if (fields.deliverable_id) {
      const deliverable = await trx
        .selectFrom('sandbox_deliverables')
        .select('project_id')
        .where('id', '=', fields.deliverable_id)
        .executeTakeFirst();
      if (deliverable && deliverable.project_id !== project.id) {
        warnings.push(`deliverableId ${fields.deliverable_id} belongs to another project and was not copied`);
        fields.deliverable_id = null;
      }
    }
    await checkReferences(trx, { project_id: project.id, type, start_date: null, due_date: null }, fields);
    const now = ctx.now();
    const status = TASK_STATUSES[type][0] as string;
    const row: TaskTable = {
      id: randomUUID(),
      project_id: project.id,
      title,
      type,
      status,
      sub_status: DEFAULT_SUB_STATUS[type]?.[status] ?? null,
      external_id: null,
      start_date: null,
      due_date: null,
      priority_id: 30,
      assignee_id: null,
      approval_state: null,
      parent_id: parentId,
      assigned_role_id: null,
      scope_id: null,
      story_points: null,
      effort: null,
      obsolete: obsolete ? 1 : 0,
      workstream: null,
      deliverable_id: null,
      involved_parties: null,
      timebox_id: null,
      description: null,
      ...fields,
      created_at: now,
      last_changed_at: now,
    };
    const state: Partial<TaskTable> = {};
    applyStatusRules(row, body, state);
    Object.assign(row, state);
    await trx.insertInto('sandbox_tasks').values(row).execute();
    if (tags && tags.length > 0) await setTaskTags(trx, row.id, tags);
    return emitTask(trx, emit, 'TASK.CREATED', row.id);
  });
}

/** Status, sub-status and approval rules per type (reference §5.3). */
function applyStatusRules(row: TaskTable, body: Body, fields: Partial<TaskTable>): void {
  const type = row.type as TaskType;
  const statuses = TASK_STATUSES[type] ?? [];
  const subMap = SUB_STATUSES[type];
  let status = str(body, 'status', { required: has(body, 'status') });
  let subStatus = str(body, 'subStatus');
  if (subMap && status !== undefined && subStatus !== undefined) {
    // Both written back after a read: the one the client changed wins, the other follows it.
    if (status !== row.status && subStatus === row.sub_status) subStatus = undefined;
    else if (subStatus !== row.sub_status && status === row.status) status = undefined;
  }
  if (status !== undefined && status !== null && !statuses.includes(status)) {
    throw badRequest(
      `Invalid status '${status}' for task type ${type}; allowed values are ${statuses.join(', ')}`,
    );
  }
  if (subStatus !== undefined && subStatus !== null) {
    if (!subMap || !(subStatus in subMap)) {
      throw badRequest(
        subMap
          ? `Invalid subStatus '${subStatus}' for task type ${type}; allowed values are ${Object.keys(subMap).join(', ')}`
          : `Task type ${type} has no sub-status`,
      );
    }
  }
  if (subMap) {
    const implied = subStatus ? subMap[subStatus] : undefined;
    if (status && implied && status !== implied)
      throw badRequest(`Sub-status ${subStatus} requires status ${implied}, not ${status}`);
    if (subStatus) {
      fields.sub_status = subStatus;
      fields.status = implied as string;
    } else if (status) {
      fields.status = status;
      const current = row.sub_status;
      fields.sub_status =
        current && subMap[current] === status ? current : (DEFAULT_SUB_STATUS[type]?.[status] ?? null);
    }
  } else {
    if (status) fields.status = status;
    if (subStatus === null) fields.sub_status = null;
  }

  if (has(body, 'approvalState')) {
    const approval = str(body, 'approvalState');
    if (type !== 'CALMREQU')
      throw badRequest('approvalState can only be set on requirements (type CALMREQU)');
    if (
      approval !== null &&
      approval !== undefined &&
      !(APPROVAL_STATES as readonly string[]).includes(approval)
    ) {
      throw badRequest(
        `Invalid approvalState '${approval}'; allowed values are ${APPROVAL_STATES.join(', ')}`,
      );
    }
    const from = row.approval_state ?? '';
    const to = approval ?? '';
    if (from !== to) {
      if (!(APPROVAL_TRANSITIONS[from] ?? []).includes(to)) {
        throw badRequest(
          from === 'APPROVED' || from === 'REJECTED'
            ? `The approval state ${from} is final`
            : `The approval state cannot change from ${from || 'initial'} to ${to || 'initial'}`,
        );
      }
      fields.approval_state = approval ?? null;
    }
  }
}

/**
 * `PATCH /tasks/{id}`: a partial body, or the whole task as GET returned it with some fields
 * changed (read-only fields ignored when unchanged, see `READ_ONLY`).
 */
export async function updateTask(
  ctx: SandboxContext,
  principal: Principal | null,
  actor: string,
  id: string,
  raw: unknown,
): Promise<TaskWithDescription> {
  const body = { ...asBody(raw) };
  rejectUnknown(body, [...PATCH_FIELDS, ...NOT_PATCHABLE, ...READ_ONLY]);
  const fields = commonFields(body);
  const obsolete = bool(body, 'obsolete');
  if (obsolete !== undefined) fields.obsolete = obsolete ? 1 : 0;
  const tags = parseTags(body);
  return withEvents(ctx, actor, async (trx, emit) => {
    const row = await visibleTask(trx, principal, id);
    const current = await taskWithDescription(trx, row);
    checkReadOnly(body, current);
    // `type`, `projectId` and `parentId` are not patchable (reference §5.2): sending the current
    // value (a client writing back what it read) is accepted, any other value, including a null
    // parentId on a sub-task or a parent on a top-level task, is a 400.
    const columns = { type: row.type, projectId: row.project_id, parentId: row.parent_id } as const;
    for (const key of NOT_PATCHABLE) {
      if (!has(body, key)) continue;
      const now = columns[key as keyof typeof columns];
      const sent = body[key];
      if (sent === null && key !== 'parentId') continue;
      const same =
        key === 'type'
          ? sent === now
          : sent === now || (typeof sent === 'string' && sent.toLowerCase() === now);
      if (!same) throw badRequest(`Property '${key}' cannot be changed`);
    }
    dropNullApproval(body, row.type);
    applyStatusRules(row, body, fields);
    await checkReferences(trx, row, fields);
    const tagsChanged = tags !== undefined && JSON.stringify(tags) !== JSON.stringify(current.tags);
    // Nothing to change: no lastChangedTimestamp bump and no TASK.UPDATED (as for features).
    if (
      !tagsChanged &&
      !Object.entries(fields).some(([column, value]) => row[column as keyof TaskTable] !== value)
    )
      return current;
    await trx
      .updateTable('sandbox_tasks')
      .set({ ...fields, last_changed_at: Math.max(ctx.now(), row.last_changed_at + 1) })
      .where('id', '=', row.id)
      .execute();
    if (tagsChanged) await setTaskTags(trx, row.id, tags);
    return emitTask(trx, emit, 'TASK.UPDATED', row.id);
  });
}

export async function deleteTask(ctx: SandboxContext, principal: Principal, id: string): Promise<void> {
  await withEvents(ctx, principal.clientId, async (trx, emit) => {
    const row = await visibleTask(trx, principal, id);
    if (row.type === 'CALMREQU' && row.approval_state === 'APPROVED')
      throw badRequest('Approved requirements cannot be deleted');
    const children = await trx
      .selectFrom('sandbox_tasks')
      .select('id')
      .where('parent_id', '=', row.id)
      .execute();
    const ids = [...children.map((child) => child.id), row.id];
    if (ctx.settings.emitTaskDeleted) {
      for (const taskId of ids) {
        const task = await trx
          .selectFrom('sandbox_tasks')
          .selectAll()
          .where('id', '=', taskId)
          .executeTakeFirstOrThrow();
        await emit({
          eventType: 'TASK.DELETED',
          resourceId: taskId,
          projectId: task.project_id,
          resource: withoutNulls({ ...(await taskWithDescription(trx, task)) }),
        });
      }
    }
    await trx.deleteFrom('sandbox_tasks').where('id', 'in', ids).execute();
  });
}

/** Marks the task changed (comments and references count as changes) and emits TASK.UPDATED. */
export async function touchTask(
  ctx: SandboxContext,
  trx: SandboxExecutor,
  emit: Emit,
  row: TaskTable,
): Promise<void> {
  await trx
    .updateTable('sandbox_tasks')
    .set({ last_changed_at: Math.max(ctx.now(), row.last_changed_at + 1) })
    .where('id', '=', row.id)
    .execute();
  await emitTask(trx, emit, 'TASK.UPDATED', row.id);
}
