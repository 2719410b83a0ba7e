import { writeJson } from '@calmhub/platform';
import type { Kysely, Transaction } from 'kysely';
import type { Actor } from '../access/actor.js';
import type { HubTables } from '../store/tables.js';
import type { AuditActor, AuditContext, AuditEntry } from './types.js';

/** A user acting through the API: the context an operation passes to `recordAudit`. */
export function userAudit(actor: Actor, requestId?: string | null): AuditContext {
  return {
    actor: { kind: 'user', id: actor.userId, label: actor.email, tenantRole: actor.tenantRole },
    requestId: requestId ?? null,
  };
}

/** The hub itself acting (`schedule`, a sync job, an operator command on the store). */
export function systemAudit(id: string, label = id): AuditContext {
  return { actor: { kind: 'system', id, label }, requestId: null };
}

/** Cloud ALM acting through an integration (a webhook delivery). */
export function integrationAudit(integration: { id: string; name: string }): AuditContext {
  return { actor: { kind: 'integration', id: integration.id, label: integration.name }, requestId: null };
}

async function roleOf(
  db: Kysely<HubTables>,
  actor: AuditActor,
  tenantId: string,
  projectId: string | null,
): Promise<string | null> {
  if (actor.kind !== 'user') return null;
  if (actor.tenantRole === 'admin') return 'tenant_admin';
  if (projectId === null) return null;
  const member = await db
    .selectFrom('hub_project_members')
    .select('role')
    .where('project_id', '=', projectId)
    .where('user_id', '=', actor.id)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return member?.role ?? null;
}

/** Operator commands on the store (`calmhub tenants add`, `tokens create`), and the first start. */
export const OPERATOR_AUDIT: AuditContext = systemAudit('operator', 'calmhub operator');

/** Runs `work` in the caller's transaction when `db` is one, else in a new one. */
export function inTransaction<T>(
  db: Kysely<HubTables>,
  work: (trx: Kysely<HubTables>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute((trx: Transaction<HubTables>) => work(trx));
}

const json = (value: unknown): string | null => (value === undefined ? null : writeJson(value));

/**
 * Appends one audit entry: the one way to write the audit log. Pass the transaction of the change
 * it records, so the entry commits with the change or not at all. The log has no update and no
 * delete.
 */
export async function recordAudit(db: Kysely<HubTables>, entry: AuditEntry): Promise<void> {
  await recordAudits(db, [entry]);
}

/** Several entries in one insert (a burst of webhook deliveries settled together), same rules. */
export async function recordAudits(db: Kysely<HubTables>, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = [];
  for (const entry of entries) {
    const role =
      entry.role !== undefined ? entry.role : await roleOf(db, entry.actor, entry.tenantId, entry.projectId);
    rows.push({
      tenant_id: entry.tenantId,
      project_id: entry.projectId,
      occurred_at: entry.occurredAt,
      actor_kind: entry.actor.kind,
      actor_id: entry.actor.id,
      actor_label: entry.actor.label,
      role,
      kind: entry.kind,
      object_kind: entry.object.kind,
      object_id: entry.object.id,
      object_label: entry.object.label ?? null,
      before: json(entry.before),
      after: json(entry.after),
      request_id: entry.requestId,
    });
  }
  // Bounded: a multi-row insert's parameters stay well under SQLite's and PostgreSQL's limits.
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto('hub_audit_log')
      .values(rows.slice(i, i + 200))
      .execute();
}
