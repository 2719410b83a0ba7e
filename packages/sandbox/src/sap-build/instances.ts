import { randomUUID } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import { SapBuildError } from './errors.js';
import type { SapBuildDb, SapBuildInstanceTable } from './tables.js';

/** A workflow instance as `GET /workflow/rest/v1/workflow-instances/{id}` renders it (reference §10). */
export interface WorkflowInstance {
  id: string;
  definitionId: string;
  definitionVersion: string;
  subject: string;
  status: string;
  businessKey: string;
  parentInstanceId: string | null;
  rootInstanceId: string;
  applicationScope: string;
  projectId: string;
  projectVersion: string;
  startedAt: string;
  startedBy: string;
  completedAt: string | null;
}

export const TERMINAL = ['COMPLETED', 'CANCELED', 'ERRONEOUS'];
/** Moves `PATCH` may ask for, from each status (the workflow API's suspend/resume/cancel). */
const PATCH_MOVES: Record<string, string[]> = {
  RUNNING: ['SUSPENDED', 'CANCELED'],
  SUSPENDED: ['RUNNING', 'CANCELED'],
};

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export function render(row: SapBuildInstanceTable): WorkflowInstance {
  return {
    id: row.id,
    definitionId: row.definition_id,
    definitionVersion: row.definition_version,
    subject: row.subject,
    status: row.status,
    businessKey: row.business_key,
    parentInstanceId: null,
    rootInstanceId: row.id,
    applicationScope: 'shared',
    projectId: row.project_id,
    projectVersion: row.project_version,
    startedAt: new Date(Number(row.started_at)).toISOString(),
    startedBy: row.started_by,
    completedAt: row.completed_at === null ? null : new Date(Number(row.completed_at)).toISOString(),
  };
}

export async function findInstance(db: SapBuildDb, id: string): Promise<SapBuildInstanceTable> {
  // PostgreSQL cannot compare text holding NUL; no instance has such an id.
  const row = id.includes('\u0000')
    ? undefined
    : await db.selectFrom('sapbuild_instances').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new SapBuildError(404, `Workflow instance '${id}' not found`);
  return row;
}

/**
 * `POST /workflow-instances` `{definitionId, context?, businessKey?}`. Any definition id is
 * accepted (no deployment step in the emulator); SAP Build ids read `<region>.<project>.<name>`,
 * so the project id and subject are taken from the middle and last segments.
 */
export async function startInstance(
  db: SapBuildDb,
  body: unknown,
  startedBy: string,
  now: number,
): Promise<SapBuildInstanceTable> {
  const input = object(body);
  if (!input) throw new SapBuildError(400, 'The request body must be a JSON object');
  const { definitionId, context, businessKey } = input;
  if (typeof definitionId !== 'string' || !definitionId.trim())
    throw new SapBuildError(400, "Property 'definitionId' is required");
  if (context !== undefined && !object(context))
    throw new SapBuildError(400, "Property 'context' must be a JSON object");
  if (businessKey !== undefined && typeof businessKey !== 'string')
    throw new SapBuildError(400, "Property 'businessKey' must be a string");
  const segments = definitionId.split('.');
  const row: SapBuildInstanceTable = {
    id: randomUUID(),
    definition_id: definitionId,
    definition_version: '1',
    subject: segments.at(-1) ?? definitionId,
    status: 'RUNNING',
    business_key: businessKey ?? '',
    project_id: segments.length >= 3 ? segments.slice(1, -1).join('.') : '',
    project_version: '1.0.0',
    context: writeJson(context ?? {}),
    outputs: null,
    started_at: now,
    started_by: startedBy,
    completed_at: null,
  };
  await db.insertInto('sapbuild_instances').values(row).execute();
  return row;
}

/** `PATCH /workflow-instances/{id}` `{status?, cascade?, context?}`: cancel, suspend, resume. */
export async function patchInstance(db: SapBuildDb, id: string, body: unknown, now: number): Promise<void> {
  const input = object(body);
  if (!input) throw new SapBuildError(400, 'The request body must be a JSON object');
  const row = await findInstance(db, id);
  const { status, cascade, context } = input;
  if (cascade !== undefined && typeof cascade !== 'boolean')
    throw new SapBuildError(400, "Property 'cascade' must be a boolean");
  if (context !== undefined && !object(context))
    throw new SapBuildError(400, "Property 'context' must be a JSON object");
  const changes: Partial<SapBuildInstanceTable> = {};
  if (status !== undefined) {
    if (typeof status !== 'string') throw new SapBuildError(400, "Property 'status' must be a string");
    if (status !== row.status) {
      if (!PATCH_MOVES[row.status]?.includes(status))
        throw new SapBuildError(409, `Workflow instance in status ${row.status} cannot change to ${status}`);
      changes.status = status;
      if (status === 'CANCELED') changes.completed_at = now;
    }
  }
  if (context) {
    if (TERMINAL.includes(row.status))
      throw new SapBuildError(409, `Context of a workflow instance in status ${row.status} cannot change`);
    changes.context = writeJson({ ...readJson<Json>(row.context), ...(context as Json) });
  }
  if (Object.keys(changes).length > 0)
    await db.updateTable('sapbuild_instances').set(changes).where('id', '=', id).execute();
}

/** What the workflow's end event leaves: set when an admin completes the instance. */
export async function outputsOf(db: SapBuildDb, id: string): Promise<Json> {
  const row = await findInstance(db, id);
  return row.outputs === null ? {} : readJson<Json>(row.outputs);
}

/** Admin: a running instance ends (`COMPLETED` or `ERRONEOUS`) with the given outputs. */
export async function finishInstance(
  db: SapBuildDb,
  id: string,
  status: string,
  outputs: Json,
  now: number,
): Promise<SapBuildInstanceTable> {
  const row = await findInstance(db, id);
  if (!['COMPLETED', 'ERRONEOUS'].includes(status))
    throw new SapBuildError(400, "Property 'status' must be COMPLETED or ERRONEOUS");
  if (TERMINAL.includes(row.status))
    throw new SapBuildError(409, `Workflow instance is already ${row.status}`);
  await db
    .updateTable('sapbuild_instances')
    .set({ status, outputs: writeJson(outputs), completed_at: now })
    .where('id', '=', id)
    .execute();
  return findInstance(db, id);
}

export async function listInstances(
  db: SapBuildDb,
  filter: { definitionId?: string | undefined; status?: string | undefined },
): Promise<SapBuildInstanceTable[]> {
  let query = db.selectFrom('sapbuild_instances').selectAll();
  if (filter.definitionId) query = query.where('definition_id', '=', filter.definitionId);
  if (filter.status) query = query.where('status', '=', filter.status.toUpperCase());
  return query.orderBy('started_at').orderBy('id').execute();
}
