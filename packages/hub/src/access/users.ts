import { randomUUID } from 'node:crypto';
import { AppError, writeJson } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Clock } from '../app/deps.js';
import { inTransaction, OPERATOR_AUDIT, recordAudit, userAudit } from '../audit/record-audit.js';
import type { AuditContext } from '../audit/types.js';
import type { HubTables, TenantRole, UsersTable } from '../store/tables.js';
import type { Actor } from './actor.js';
import { notFound } from './authorize.js';
import { type UserView, userView } from './views.js';

type Deps = { db: Kysely<HubTables>; clock: Clock };

export interface CreateUserInput {
  email: string;
  name?: string | undefined;
  tenantRole?: TenantRole | undefined;
  sapUserIds?: string[] | undefined;
}

const normaliseEmail = (email: string) => email.trim().toLowerCase();
const normaliseSapIds = (ids: string[]) => [
  ...new Set(ids.map((id) => id.trim().toUpperCase()).filter(Boolean)),
];

/** `by`: who creates the user, for the audit log (an operator command on the store when left out). */
export async function createUser(
  deps: Deps,
  tenantId: string,
  input: CreateUserInput,
  by: AuditContext = OPERATOR_AUDIT,
): Promise<UserView> {
  const email = normaliseEmail(input.email);
  const existing = await deps.db
    .selectFrom('hub_users')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('email', '=', email)
    .executeTakeFirst();
  if (existing)
    throw new AppError('conflict', `A user with e-mail ${email} already exists`, {
      details: { field: 'email' },
    });
  const now = deps.clock.now();
  const row: UsersTable = {
    id: randomUUID(),
    tenant_id: tenantId,
    email,
    name: input.name?.trim() || email,
    tenant_role: input.tenantRole ?? 'member',
    sap_user_ids: writeJson(normaliseSapIds(input.sapUserIds ?? [])),
    created_at: now,
    updated_at: now,
  };
  await inTransaction(deps.db, async (trx) => {
    await trx.insertInto('hub_users').values(row).execute();
    await recordAudit(trx, {
      ...by,
      tenantId,
      projectId: null,
      occurredAt: now,
      kind: 'user.created',
      object: { kind: 'user', id: row.id, label: row.email },
      after: userView(row),
    });
  });
  return userView(row);
}

export async function listUsers(deps: Deps, actor: Actor): Promise<UserView[]> {
  const rows = await deps.db
    .selectFrom('hub_users')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(userView);
}

export async function getUser(deps: Deps, actor: Actor, id: string): Promise<UserView> {
  const row = await deps.db
    .selectFrom('hub_users')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('user', id);
  return userView(row);
}

export interface UpdateUserInput {
  name?: string | undefined;
  tenantRole?: TenantRole | undefined;
  sapUserIds?: string[] | undefined;
}

export async function updateUser(
  deps: Deps,
  actor: Actor,
  id: string,
  input: UpdateUserInput,
  requestId?: string,
): Promise<UserView> {
  const current = await getUser(deps, actor, id);
  if (input.tenantRole === 'member' && current.tenantRole === 'admin') {
    const admins = await deps.db
      .selectFrom('hub_users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', actor.tenantId)
      .where('tenant_role', '=', 'admin')
      .executeTakeFirstOrThrow();
    if (Number(admins.n) <= 1)
      throw new AppError('conflict', 'The last tenant admin cannot be demoted', {
        details: { field: 'tenantRole' },
      });
  }
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('hub_users')
      .set({
        ...(input.name === undefined ? {} : { name: input.name.trim() }),
        ...(input.tenantRole === undefined ? {} : { tenant_role: input.tenantRole }),
        ...(input.sapUserIds === undefined
          ? {}
          : { sap_user_ids: writeJson(normaliseSapIds(input.sapUserIds)) }),
        updated_at: now,
      })
      .where('tenant_id', '=', actor.tenantId)
      .where('id', '=', id)
      .execute();
    const after = await getUser({ ...deps, db: trx }, actor, id);
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: null,
      occurredAt: now,
      kind: 'user.updated',
      object: { kind: 'user', id, label: after.email },
      before: current,
      after,
    });
    return after;
  });
}

/** A user by id or e-mail, within one tenant. */
export async function findUser(
  deps: Deps,
  tenantId: string,
  idOrEmail: string,
): Promise<UsersTable | undefined> {
  const query = deps.db.selectFrom('hub_users').selectAll().where('tenant_id', '=', tenantId);
  return idOrEmail.includes('@')
    ? query.where('email', '=', normaliseEmail(idOrEmail)).executeTakeFirst()
    : query.where('id', '=', idOrEmail).executeTakeFirst();
}
