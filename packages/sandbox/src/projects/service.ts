import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { SandboxContext } from '../app/context.js';
import { canSeeProject, type Principal } from '../auth/tokens.js';
import { asBody, type Body, bool, has, num, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import { isIsoDate } from '../shared/time.js';
import type { ProjectTable, SandboxExecutor, TimeboxTable } from '../store/tables.js';

/** Exactly the fields a tenant returned (reference §3): `O` open, `C` closed. */
export interface Project {
  id: string;
  name: string;
  status: string;
}

export interface Timebox {
  id: string;
  name: string;
  /** 0 milestone, 1 phase, 2 sprint. */
  type: number;
  startDate: string | null;
  endDate: string | null;
  closed: boolean;
}

export const toProject = (row: ProjectTable): Project => ({ id: row.id, name: row.name, status: row.status });

export const toTimebox = (row: TimeboxTable): Timebox => ({
  id: row.id,
  name: row.name,
  type: row.type,
  startDate: row.start_date,
  endDate: row.end_date,
  closed: row.closed === 1,
});

/** A project the caller may use: 404 when it does not exist, 403 when the client may not see it. */
export async function visibleProject(
  db: SandboxExecutor,
  principal: Principal,
  id: string,
): Promise<ProjectTable> {
  const row = isGuid(id)
    ? await db
        .selectFrom('sandbox_projects')
        .selectAll()
        .where('id', '=', id.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!row) throw notFound(`Project with id ${id} not found`);
  // No id in the message: callers also pass the project of another object the client asked for.
  if (!canSeeProject(principal, row.id)) throw new CalmError(403, 'No authorization for this project');
  return row;
}

export async function listProjects(db: SandboxExecutor, principal: Principal): Promise<Project[]> {
  let query = db.selectFrom('sandbox_projects').selectAll();
  if (principal.projectIds !== null) {
    if (principal.projectIds.length === 0) return [];
    query = query.where('id', 'in', principal.projectIds);
  }
  return (await query.orderBy('number').execute()).map(toProject);
}

export async function nextProjectNumber(db: SandboxExecutor): Promise<number> {
  const row = await db
    .selectFrom('sandbox_projects')
    .select(sql<number>`coalesce(max(number), 0)`.as('max'))
    .executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

export async function createProject(
  ctx: SandboxContext,
  db: SandboxExecutor,
  input: { id?: string; name: string; status?: string },
): Promise<ProjectTable> {
  const now = ctx.now();
  const row: ProjectTable = {
    id: input.id ?? randomUUID(),
    number: await nextProjectNumber(db),
    name: input.name,
    status: input.status ?? 'O',
    feature_seq: 0,
    created_at: now,
    modified_at: now,
  };
  await db.insertInto('sandbox_projects').values(row).execute();
  return row;
}

export function parseProjectCreate(raw: unknown): { name: string; status?: string } {
  const body = asBody(raw);
  rejectUnknown(body, ['name', 'status']);
  const name = requiredStr(body, 'name', 255);
  const status = str(body, 'status');
  if (status !== undefined && status !== 'O' && status !== 'C')
    throw badRequest(`Invalid project status '${status}'; use O or C`);
  return status ? { name, status } : { name };
}

function timeboxType(body: Body): number | undefined {
  const type = num(body, 'type', { integer: true });
  if (type === null || (type !== undefined && ![0, 1, 2].includes(type))) {
    throw badRequest('Timebox type must be 0 (milestone), 1 (phase) or 2 (sprint)');
  }
  return type;
}

function date(body: Body, key: string): string | null | undefined {
  const value = str(body, key);
  if (typeof value === 'string' && !isIsoDate(value))
    throw badRequest(`Property '${key}' must be a date (YYYY-MM-DD)`);
  return value;
}

export function parseTimeboxCreate(raw: unknown): Omit<TimeboxTable, 'id' | 'project_id'> {
  const body = asBody(raw);
  rejectUnknown(body, ['type', 'name', 'startDate', 'endDate', 'closed']);
  const type = timeboxType(body);
  if (type === undefined) throw badRequest("Property 'type' is required");
  const row = {
    type,
    name: requiredStr(body, 'name', 255),
    start_date: date(body, 'startDate') ?? null,
    end_date: date(body, 'endDate') ?? null,
    closed: bool(body, 'closed') ? 1 : 0,
  };
  if (row.start_date && row.end_date && row.end_date < row.start_date)
    throw badRequest('endDate must not be before startDate');
  return row;
}

export function parseTimeboxPatch(raw: unknown): Partial<TimeboxTable> {
  const body = asBody(raw);
  rejectUnknown(body, ['type', 'name', 'startDate', 'endDate', 'closed']);
  const patch: Partial<TimeboxTable> = {};
  const type = timeboxType(body);
  if (type !== undefined) patch.type = type;
  if (has(body, 'name')) patch.name = requiredStr(body, 'name', 255);
  const start = date(body, 'startDate');
  if (start !== undefined) patch.start_date = start;
  const end = date(body, 'endDate');
  if (end !== undefined) patch.end_date = end;
  const closed = bool(body, 'closed');
  if (closed !== undefined) patch.closed = closed ? 1 : 0;
  return patch;
}

/** A timebox whose project the caller may see. */
export async function visibleTimebox(
  db: SandboxExecutor,
  principal: Principal,
  id: string,
): Promise<TimeboxTable> {
  const row = isGuid(id)
    ? await db
        .selectFrom('sandbox_timeboxes')
        .selectAll()
        .where('id', '=', id.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!row) throw notFound(`Timebox with id ${id} not found`);
  if (!canSeeProject(principal, row.project_id))
    throw new CalmError(403, `No authorization for timebox ${id}`);
  return row;
}
