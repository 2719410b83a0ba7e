import { sql } from 'kysely';
import type { Db } from '../sync/apply-items.js';

/**
 * Serialises a check-then-insert on `key` until the transaction ends. SQLite transactions already
 * run one at a time (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped advisory lock.
 */
export async function lockForTransaction(
  trx: Db,
  dialect: 'sqlite' | 'postgres',
  key: string,
): Promise<void> {
  if (dialect === 'postgres')
    await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}
