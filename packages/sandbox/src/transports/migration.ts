import type { MigrationContext } from '@calmhub/platform';

/** The object list of each transport (what an ABAP system's E071 holds for the request). */
export async function transportObjectsMigration({ db }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('sandbox_transport_objects')
    .addColumn('transport_uuid', 'text', (c) =>
      c.notNull().references('sandbox_transports.uuid').onDelete('cascade'),
    )
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('pgmid', 'text', (c) => c.notNull())
    .addColumn('object_type', 'text', (c) => c.notNull())
    .addColumn('object_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_transport_objects_pk', ['transport_uuid', 'position'])
    .execute();
}
