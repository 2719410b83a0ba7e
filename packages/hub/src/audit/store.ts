import { readJson } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import { iso } from '../access/views.js';
import type { AuditLogTable, HubTables } from '../store/tables.js';
import type { AuditActorKind, AuditEntryView, AuditKind } from './types.js';

/** Reads of the audit log. There is deliberately no update or delete here: entries are appended by `recordAudit`. */

export interface AuditFilter {
  tenantId: string;
  /** One project's entries, or (undefined) the whole tenant's. */
  projectId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  /** A user id or e-mail, an integration id or name, a system part: matched on id or label. */
  actor?: string | undefined;
  objectKind?: string | undefined;
  objectId?: string | undefined;
  kinds?: AuditKind[] | undefined;
  /** Only entries with an id below this one. */
  before?: number | undefined;
}

export async function selectAudit(
  db: Kysely<HubTables>,
  filter: AuditFilter,
  limit: number,
): Promise<Array<Omit<AuditLogTable, 'id'> & { id: number }>> {
  let query = db.selectFrom('hub_audit_log').selectAll().where('tenant_id', '=', filter.tenantId);
  if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
  if (filter.from !== undefined) query = query.where('occurred_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('occurred_at', '<', filter.to);
  const actor = filter.actor;
  if (actor !== undefined)
    query = query.where((eb) =>
      eb.or([
        eb('actor_id', '=', actor),
        eb('actor_label', '=', actor),
        eb('actor_label', '=', actor.toLowerCase()),
      ]),
    );
  if (filter.objectKind !== undefined) query = query.where('object_kind', '=', filter.objectKind);
  if (filter.objectId !== undefined) query = query.where('object_id', '=', filter.objectId);
  if (filter.kinds !== undefined && filter.kinds.length > 0) query = query.where('kind', 'in', filter.kinds);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  const rows = await query.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

export function auditEntryView(row: Omit<AuditLogTable, 'id'> & { id: number }): AuditEntryView {
  return {
    id: row.id,
    occurredAt: iso(Number(row.occurred_at)),
    projectId: row.project_id,
    actor: { kind: row.actor_kind as AuditActorKind, id: row.actor_id, label: row.actor_label },
    role: row.role,
    kind: row.kind as AuditKind,
    object: { kind: row.object_kind, id: row.object_id, label: row.object_label },
    before: row.before === null ? null : readJson(row.before),
    after: row.after === null ? null : readJson(row.after),
    requestId: row.request_id,
  };
}
