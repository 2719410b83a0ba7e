import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Dialect, Store } from './store.js';

/** Column types that differ between the engines; everything else is written once. */
export interface ColumnTypes {
  json: 'jsonb' | 'text';
  /** Epoch milliseconds. */
  timestamp: 'bigint' | 'integer';
  /** Auto-incrementing primary key type. */
  serial: 'bigserial' | 'integer';
}

export function columnTypes(dialect: Dialect): ColumnTypes {
  return dialect === 'postgres'
    ? { json: 'jsonb', timestamp: 'bigint', serial: 'bigserial' }
    : { json: 'text', timestamp: 'integer', serial: 'integer' };
}

export interface MigrationContext {
  // biome-ignore lint/suspicious/noExplicitAny: migrations create tables that no type describes yet
  db: Kysely<any>;
  dialect: Dialect;
  types: ColumnTypes;
}

export interface StoreMigration {
  up(context: MigrationContext): Promise<void>;
}

/** A package's migrations, applied in key order and tracked in their own table. */
export interface MigrationSet {
  name: string;
  migrations: Record<string, StoreMigration>;
}

function migratorFor(store: Store, set: MigrationSet): Migrator {
  const provider: MigrationProvider = {
    async getMigrations() {
      const result: Record<string, Migration> = {};
      for (const [name, migration] of Object.entries(set.migrations)) {
        result[name] = {
          up: (db) => migration.up({ db, dialect: store.dialect, types: columnTypes(store.dialect) }),
        };
      }
      return result;
    },
  };
  return new Migrator({
    db: store.db,
    provider,
    migrationTableName: `calmhub_${set.name}_migrations`,
    migrationLockTableName: `calmhub_${set.name}_migrations_lock`,
  });
}

export async function migrateToLatest(store: Store, sets: MigrationSet[]): Promise<string[]> {
  const applied: string[] = [];
  for (const set of sets) {
    const { error, results } = await migratorFor(store, set).migrateToLatest();
    for (const result of results ?? []) {
      if (result.status === 'Success') applied.push(`${set.name}/${result.migrationName}`);
    }
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }
  return applied;
}

/** Names of migrations not yet applied, across the sets; empty when the store is up to date. */
export async function pendingMigrations(store: Store, sets: MigrationSet[]): Promise<string[]> {
  const pending: string[] = [];
  for (const set of sets) {
    for (const info of await migratorFor(store, set).getMigrations()) {
      if (!info.executedAt) pending.push(`${set.name}/${info.name}`);
    }
  }
  return pending;
}
