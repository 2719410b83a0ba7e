import type { Kysely, Transaction } from 'kysely';
import type { HubTables, WriteBacksTable } from '../store/tables.js';
import { WRITE_BACK_ACTIONS, WRITE_BACK_TARGETS } from './actions.js';

export type Db = Kysely<HubTables> | Transaction<HubTables>;

/** Every switch of an integration, on unless a row turns it off. */
export async function switchesOf(db: Db, integrationId: string): Promise<Record<string, boolean>> {
  const rows = await db
    .selectFrom('hub_writeback_settings')
    .select(['kind', 'enabled'])
    .where('integration_id', '=', integrationId)
    .execute();
  const switches: Record<string, boolean> = Object.fromEntries(
    [...WRITE_BACK_TARGETS, ...WRITE_BACK_ACTIONS].map((kind) => [kind, true]),
  );
  for (const row of rows) if (row.kind in switches) switches[row.kind] = row.enabled === 1;
  return switches;
}

/** Pending rows of one batch, oldest first. */
export function pendingRows(db: Db, batchKey: string): Promise<WriteBacksTable[]> {
  return db
    .selectFrom('hub_writebacks')
    .selectAll()
    .where('batch_key', '=', batchKey)
    .where('state', '=', 'pending')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function updateRows(
  db: Db,
  ids: string[],
  changes: Partial<Pick<WriteBacksTable, 'state' | 'last_error' | 'remote_id' | 'written_at' | 'updated_at'>>,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('hub_writebacks')
    .set(changes)
    .where('id', 'in', ids)
    .where('state', '=', 'pending')
    .execute();
}

/** Counts a write attempt on each row before the write is sent: from here on its outcome is unknown. */
export async function startAttempt(db: Db, ids: string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('hub_writebacks')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), updated_at: now }))
    .where('id', 'in', ids)
    .execute();
}
