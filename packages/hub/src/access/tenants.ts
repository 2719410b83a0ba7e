import { randomUUID } from 'node:crypto';
import { AppError } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Clock } from '../app/deps.js';
import type { HubTables, UsersTable } from '../store/tables.js';
import { issueToken } from './tokens.js';
import { createUser } from './users.js';

type Deps = { db: Kysely<HubTables>; clock: Clock };

export const DEFAULT_TENANT = 'default';

/** A tenant with its first admin and an API token for them (shown once). */
export async function createTenant(
  deps: Deps,
  input: { name: string; adminEmail: string; tokenName?: string },
): Promise<{ tenantId: string; adminId: string; token: string }> {
  const existing = await deps.db
    .selectFrom('hub_tenants')
    .select('id')
    .where('name', '=', input.name)
    .executeTakeFirst();
  if (existing) throw new AppError('conflict', `A tenant named "${input.name}" already exists`);
  const tenantId = randomUUID();
  return deps.db.transaction().execute(async (trx) => {
    const scoped = { db: trx, clock: deps.clock };
    await trx
      .insertInto('hub_tenants')
      .values({ id: tenantId, name: input.name, created_at: deps.clock.now() })
      .execute();
    const admin = await createUser(scoped, tenantId, { email: input.adminEmail, tenantRole: 'admin' });
    const { token } = await issueToken(scoped, {
      tenantId,
      userId: admin.id,
      name: input.tokenName ?? 'first token',
      expiresAt: null,
    });
    return { tenantId, adminId: admin.id, token };
  });
}

/**
 * First start: creates the default tenant, its admin and a first token. Returns the token when it
 * created one; undefined when the hub was set up before. Safe when several processes start at once
 * (the unique tenant name lets one win).
 */
export async function bootstrapFirstAdmin(deps: Deps, adminEmail: string): Promise<string | undefined> {
  const any = await deps.db.selectFrom('hub_tenants').select('id').limit(1).executeTakeFirst();
  if (any) return undefined;
  try {
    return (await createTenant(deps, { name: DEFAULT_TENANT, adminEmail })).token;
  } catch (error) {
    const again = await deps.db.selectFrom('hub_tenants').select('id').limit(1).executeTakeFirst();
    if (again) return undefined;
    throw error;
  }
}

/** The tenant by name or id; the default tenant when none is named. */
export async function findTenant(
  deps: Deps,
  nameOrId?: string,
): Promise<{ id: string; name: string } | undefined> {
  const query = deps.db.selectFrom('hub_tenants').select(['id', 'name']);
  if (!nameOrId) return query.orderBy('created_at').limit(1).executeTakeFirst();
  return query.where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)])).executeTakeFirst();
}

/** The oldest admin of a tenant: who `calmhub tokens create` issues for when no user is named. */
export async function firstAdmin(deps: Deps, tenantId: string): Promise<UsersTable | undefined> {
  return deps.db
    .selectFrom('hub_users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('tenant_role', '=', 'admin')
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
}
