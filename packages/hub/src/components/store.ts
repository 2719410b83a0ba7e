import type { Kysely } from 'kysely';
import type { CalmTransportsTable, HubTables, StoryComponentsTable } from '../store/tables.js';

type Db = Kysely<HubTables>;

/** A story's attached components, oldest first. */
export function attachedComponents(
  db: Db,
  tenantId: string,
  storyId: string,
): Promise<StoryComponentsTable[]> {
  return db
    .selectFrom('hub_story_components')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('story_id', '=', storyId)
    .where('detached_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export function findComponent(
  db: Db,
  tenantId: string,
  id: string,
): Promise<StoryComponentsTable | undefined> {
  return db
    .selectFrom('hub_story_components')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('detached_at', 'is', null)
    .executeTakeFirst();
}

export interface TransportHolder {
  componentId: string;
  storyId: string;
  projectId: string;
  displayId: string | null;
  title: string;
}

/** Open (not obsolete) stories of the tenant that have these transports attached. */
export async function storiesHoldingTransports(
  db: Db,
  tenantId: string,
  numbers: string[],
): Promise<Array<TransportHolder & { number: string }>> {
  if (numbers.length === 0) return [];
  const rows = await db
    .selectFrom('hub_story_components as c')
    .innerJoin('hub_calm_stories as s', 's.id', 'c.story_id')
    .select(['c.id', 'c.transport_id', 's.id as story_id', 's.project_id', 's.display_id', 's.title'])
    .where('c.tenant_id', '=', tenantId)
    .where('s.tenant_id', '=', tenantId)
    .where('c.transport_id', 'in', numbers)
    .where('c.detached_at', 'is', null)
    .where('s.obsolete', '=', 0)
    .orderBy('c.created_at')
    .orderBy('s.display_id')
    .orderBy('c.id')
    .execute();
  return rows.map((row) => ({
    componentId: row.id,
    number: row.transport_id as string,
    storyId: row.story_id,
    projectId: row.project_id,
    displayId: row.display_id,
    title: row.title,
  }));
}

/** The transport as Cloud ALM lists it for the story's integration, if it does. */
export function calmTransportByNumber(
  db: Db,
  integrationId: string,
  number: string,
): Promise<CalmTransportsTable | undefined> {
  return db
    .selectFrom('hub_calm_transports')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('transport_id', '=', number)
    .where('obsolete', '=', 0)
    .orderBy('modified_at', 'desc')
    .executeTakeFirst();
}
