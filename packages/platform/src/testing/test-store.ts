import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type MigrationSet, migrateToLatest } from '../store/migrations.js';
import { createStore, type Store } from '../store/store.js';

/** Set by CI (and by developers who want the PostgreSQL half of the suite). */
export const testDatabaseUrl = process.env.CALMHUB_TEST_DATABASE_URL || undefined;

/**
 * Named per test run (global setup picks the name and hands it to the workers through the
 * environment), so two runs against one PostgreSQL server do not drop each other's template.
 */
export function templateDatabase(): string {
  const name = process.env.CALMHUB_TEST_TEMPLATE_DATABASE;
  if (!name)
    throw new Error('CALMHUB_TEST_TEMPLATE_DATABASE is not set: run the tests through vitest (global setup)');
  return name;
}

export type TestEngine = 'sqlite' | 'postgres';

/** The engines a store-backed test should run against on this machine. */
export const testEngines: TestEngine[] = testDatabaseUrl ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestStore {
  store: Store;
  /** Connection target another process can open: a SQLite file path or a postgres:// URL. */
  location: string;
  cleanup(): Promise<void>;
}

/** A fresh, migrated SQLite file in a temporary directory. */
export async function createSqliteTestStore(sets: MigrationSet[]): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'calmhub-test-'));
  const file = join(dir, 'test.sqlite');
  const store = createStore({ sqliteFile: file });
  await migrateToLatest(store, sets);
  return {
    store,
    location: file,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function adminQuery(text: string): Promise<void> {
  if (!testDatabaseUrl) throw new Error('CALMHUB_TEST_DATABASE_URL is not set');
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL database cloned from the template that global setup migrated once, so each
 * test file gets full isolation without re-running migrations. `sets` are applied on top
 * (a no-op for sets already in the template).
 */
export async function createPostgresTestStore(sets: MigrationSet[]): Promise<TestStore> {
  if (!testDatabaseUrl) throw new Error('CALMHUB_TEST_DATABASE_URL is not set');
  const name = `calmhub_t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await adminQuery(`create database ${name} template ${templateDatabase()}`);
  const location = withDatabase(testDatabaseUrl, name);
  const store = createStore({ databaseUrl: location, poolSize: 5 });
  await migrateToLatest(store, sets);
  return {
    store,
    location,
    async cleanup() {
      await store.close();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

export function createTestStore(engine: TestEngine, sets: MigrationSet[]): Promise<TestStore> {
  return engine === 'postgres' ? createPostgresTestStore(sets) : createSqliteTestStore(sets);
}

export async function prepareTemplateDatabase(sets: MigrationSet[]): Promise<() => Promise<void>> {
  if (!testDatabaseUrl) return async () => {};
  const template = `calmhub_tpl_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  process.env.CALMHUB_TEST_TEMPLATE_DATABASE = template;
  await adminQuery(`create database ${template}`);
  const store = createStore({ databaseUrl: withDatabase(testDatabaseUrl, template), poolSize: 1 });
  try {
    await migrateToLatest(store, sets);
  } finally {
    await store.close();
  }
  return () => adminQuery(`drop database if exists ${template} with (force)`);
}
