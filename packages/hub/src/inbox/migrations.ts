import type { ColumnTypes, MigrationContext } from '@calmhub/platform';
import { type CreateTableBuilder, sql } from 'kysely';

/** A delivery's columns after its id: the inbox row, and the landing row that becomes one. */
function deliveryColumns<TB extends string, C extends string>(
  table: CreateTableBuilder<TB, C>,
  types: ColumnTypes,
) {
  return table
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('received_at', types.timestamp, (c) => c.notNull())
    .addColumn('headers', types.json, (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('self_test', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('resource_type', 'text')
    .addColumn('event_type', 'text')
    .addColumn('resource_id', 'text')
    .addColumn('item_kind', 'text')
    .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('processed_at', types.timestamp);
}

/**
 * Cloud ALM webhook deliveries as received (the durable inbox), the per-integration webhook state,
 * the status → action map, and what the actions produced (guard results, promotion requests).
 */
export async function inboxTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_webhook_inbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .$call((table) => deliveryColumns(table, types))
    .addUniqueConstraint('hub_webhook_inbox_dedupe', ['integration_id', 'dedupe_key'])
    .execute();
  await db.schema
    .createIndex('hub_webhook_inbox_received')
    .on('hub_webhook_inbox')
    .columns(['integration_id', 'received_at'])
    .execute();

  await db.schema
    .createTable('hub_webhook_state')
    .addColumn('integration_id', 'text', (c) =>
      c.primaryKey().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('basic_user', 'text')
    .addColumn('basic_password_sealed', 'text')
    .addColumn('first_event_at', types.timestamp)
    .addColumn('last_event_at', types.timestamp)
    .addColumn('self_test_at', types.timestamp)
    .execute();

  await db.schema
    .createTable('hub_status_actions')
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('status_code', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_stage', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_status_actions_pk', ['integration_id', 'status_code'])
    .execute();

  await db.schema
    .createTable('hub_story_guards')
    .addColumn('story_id', 'text', (c) => c.notNull())
    .addColumn('transition_id', 'integer', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('passed', 'integer', (c) => c.notNull())
    .addColumn('missing', types.json, (c) => c.notNull())
    .addColumn('checked_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_story_guards_pk', ['story_id', 'transition_id'])
    .execute();

  await db.schema
    .createTable('hub_promotion_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('story_id', 'text', (c) => c.notNull())
    .addColumn('target_stage', 'text', (c) => c.notNull())
    .addColumn('transition_id', 'integer')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addUniqueConstraint('hub_promotion_requests_once', ['story_id', 'transition_id', 'target_stage'])
    .execute();
}

/** Processing looks up an item's deliveries (to settle earlier ones, to take the waiting ones): an index for it. */
export async function inboxItemIndex({ db }: MigrationContext): Promise<void> {
  await db.schema
    .createIndex('hub_webhook_inbox_item')
    .on('hub_webhook_inbox')
    .columns(['integration_id', 'resource_id', 'state', 'received_at'])
    .execute();
}

/**
 * Processing finds an item's waiting deliveries through an index of the waiting (`received`) ones
 * only, in the order received: it stays a few pages however large the inbox grows, and a new
 * delivery goes to its last page. Keyed by item first, each delivery of a burst about a dozen
 * items dirtied a page of its own, each a WAL frame at commit, the edge's largest cost.
 */
export async function inboxWaitingIndex({ db }: MigrationContext): Promise<void> {
  await db.schema.dropIndex('hub_webhook_inbox_item').execute();
  await db.schema
    .createIndex('hub_webhook_inbox_waiting')
    .on('hub_webhook_inbox')
    .columns(['integration_id', 'received_at', 'id', 'resource_id'])
    .where(sql<boolean>`state = 'received'`)
    .execute();
}

/**
 * Where the webhook edge lands deliveries on SQLite (see inbox/landing.ts): the inbox row's
 * columns and an arrival number, and no index besides that number, so storing a burst appends to
 * a few pages. Processing moves the rows into the inbox, with its indexes, in its own share of
 * time. PostgreSQL writes deliveries straight into the inbox and leaves this table empty.
 */
export async function inboxLanding({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_webhook_landing')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull())
    .$call((table) => deliveryColumns(table, types))
    .execute();
}

/**
 * The landing keeps few values (see WebhookLandingTable): each bound value and byte of a landing row
 * is paid by every delivery of a burst, on the path Cloud ALM waits on. No foreign key either: the
 * move joins the integration and drops the rows of a deleted one. Rows landed before the upgrade
 * are carried over.
 */
export async function inboxLeanLanding({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_webhook_landing_lean')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('received_at', types.timestamp, (c) => c.notNull())
    .addColumn('headers', types.json, (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('self_test', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'text')
    .addColumn('reason', 'text')
    .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('about', 'text', (c) => c.notNull())
    .execute();
  const carried = [
    'seq',
    'id',
    'integration_id',
    'dedupe_key',
    'received_at',
    'headers',
    'body',
    'self_test',
  ];
  // `about` as aboutOf writes it: the four envelope columns, empty for null, joined by U+001F.
  const about = sql.join(
    ['resource_type', 'event_type', 'resource_id', 'item_kind'].map((c) => sql`coalesce(${sql.ref(c)}, '')`),
    sql` || ${'\u001f'} || `,
  );
  await sql`insert into hub_webhook_landing_lean (${sql.join(carried.map((c) => sql.ref(c)))}, state, reason, duplicates, about)
    select ${sql.join(carried.map((c) => sql.ref(c)))}, case when state = 'received' then null else state end, reason,
    duplicates, ${about} from hub_webhook_landing`.execute(db);
  await db.schema.dropTable('hub_webhook_landing').execute();
  await db.schema.alterTable('hub_webhook_landing_lean').renameTo('hub_webhook_landing').execute();
}

/**
 * The landing journal (see inbox/landing-journal.ts) replaces the landing table on SQLite: this
 * row says which generation of the journal, up to which offset, has been moved into the inbox,
 * written in the move's transaction so that no record is moved twice. The table stays until the
 * rows landed before the upgrade have been carried into the journal (at start, see landing.ts).
 */
export async function inboxLandingJournal({ db }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_webhook_landing_moved')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();
}
