import { AppError } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Actor } from '../access/actor.js';
import { notFound, requireProjectAction } from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import type { HubTables, IntegrationsTable } from '../store/tables.js';

/**
 * An integration of the caller's tenant, after checking `action` in its project. An integration of
 * a project the caller cannot see answers the same 404 as a missing one; a role short of the
 * action answers 403. Every domain that works on an integration loads it through here.
 */
export async function loadIntegration(
  db: Kysely<HubTables>,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<IntegrationsTable> {
  const row = await db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('integration', id);
  try {
    await requireProjectAction(db, actor, row.project_id, action);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') throw notFound('integration', id);
    throw error;
  }
  return row;
}
