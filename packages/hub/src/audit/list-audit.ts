import { pipeline, Readable } from 'node:stream';
import { AppError } from '@calmhub/platform';
import { stringify } from 'csv-stringify';
import type { Actor } from '../access/actor.js';
import { requireProjectAction, requireTenantAction } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import type { AuditQuery } from './schemas.js';
import { type AuditFilter, auditEntryView, selectAudit } from './store.js';
import type { AuditEntryView } from './types.js';

type Deps = Pick<HubDeps, 'db'>;

/** Whose entries: the whole tenant (tenant admins) or one project (its admins and release managers). */
export type AuditScope = { scope: 'tenant' } | { scope: 'project'; projectId: string };

const CSV_PAGE = 500;

function epoch(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new AppError('validation_failed', `${field} is not a date-time`, {
      details: [{ location: `querystring/${field}`, message: 'must be an ISO 8601 date-time' }],
    });
  return ms;
}

/** Checks the caller may read the scope, and turns the query into a store filter. */
async function filterFor(
  deps: Deps,
  actor: Actor,
  scope: AuditScope,
  query: AuditQuery,
): Promise<AuditFilter> {
  let projectId: string | undefined;
  if (scope.scope === 'project') {
    await requireProjectAction(deps.db, actor, scope.projectId, 'audit.read_project');
    projectId = scope.projectId;
  } else {
    requireTenantAction(actor, 'audit.read');
    projectId = query.projectId;
  }
  const from = epoch('from', query.from);
  const to = epoch('to', query.to);
  if (from !== undefined && to !== undefined && from > to)
    throw new AppError('validation_failed', 'from must not be after to', {
      details: [{ location: 'querystring/from', message: 'must not be after to' }],
    });
  return {
    tenantId: actor.tenantId,
    projectId,
    from,
    to,
    actor: query.actor,
    objectKind: query.objectKind,
    objectId: query.objectId,
    kinds: query.kind,
    before: query.before,
  };
}

/** One page of audit entries, newest first. */
export async function listAudit(
  deps: Deps,
  actor: Actor,
  scope: AuditScope,
  query: AuditQuery,
): Promise<{ items: AuditEntryView[]; nextBefore: number | null }> {
  const filter = await filterFor(deps, actor, scope, query);
  const limit = query.limit ?? 50;
  const rows = await selectAudit(deps.db, filter, limit + 1);
  const items = rows.slice(0, limit).map(auditEntryView);
  return { items, nextBefore: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

export const CSV_COLUMNS = [
  'id',
  'occurredAt',
  'projectId',
  'actorKind',
  'actorId',
  'actorLabel',
  'role',
  'kind',
  'objectKind',
  'objectId',
  'objectLabel',
  'before',
  'after',
  'requestId',
] as const;

/** A cell a spreadsheet would run as a formula starts with one of these; such cells get a leading `'`. */
const FORMULA_START = /^[=+\-@\t\r]/;
const cell = (value: string | null): string =>
  value === null ? '' : FORMULA_START.test(value) ? `'${value}` : value;

function csvRecord(entry: AuditEntryView): string[] {
  return [
    String(entry.id),
    entry.occurredAt,
    entry.projectId ?? '',
    entry.actor.kind,
    cell(entry.actor.id),
    cell(entry.actor.label),
    entry.role ?? '',
    entry.kind,
    cell(entry.object.kind),
    cell(entry.object.id),
    cell(entry.object.label),
    entry.before === null ? '' : JSON.stringify(entry.before),
    entry.after === null ? '' : JSON.stringify(entry.after),
    cell(entry.requestId),
  ];
}

/**
 * The matching entries as CSV with a header row, newest first, read page by page while the
 * answer streams. Access is checked before the first byte.
 */
export async function exportAuditCsv(
  deps: Deps,
  actor: Actor,
  scope: AuditScope,
  query: Omit<AuditQuery, 'limit' | 'before'>,
): Promise<Readable> {
  const filter = await filterFor(deps, actor, scope, query);
  async function* records(): AsyncGenerator<string[]> {
    let before: number | undefined;
    for (;;) {
      const rows = await selectAudit(deps.db, { ...filter, before }, CSV_PAGE);
      for (const row of rows) yield csvRecord(auditEntryView(row));
      if (rows.length < CSV_PAGE) return;
      before = rows.at(-1)?.id;
    }
  }
  const csv = stringify({ header: true, columns: [...CSV_COLUMNS] });
  // A store failure mid-way destroys the answer (the client sees a cut stream), never a hang.
  return pipeline(Readable.from(records()), csv, () => {});
}
