import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type SqliteDatabase as KyselySqliteDatabase,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
} from 'kysely';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

/**
 * The database behind a package, whichever engine. Domain code narrows `db` to its own tables
 * with `store.db.withTables<MyTables>()`; dialect branches stay inside store/ and migrations.
 */
export interface Store {
  readonly dialect: Dialect;
  // biome-ignore lint/complexity/noBannedTypes: tables are added per package with withTables<T>()
  readonly db: Kysely<{}>;
  /** PostgreSQL only: the connection string, for dedicated LISTEN connections. */
  readonly connectionString: string | undefined;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://... selects PostgreSQL; otherwise SQLite at `sqliteFile`. */
  databaseUrl?: string | undefined;
  /** Path of the SQLite file, or ':memory:'. */
  sqliteFile?: string;
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  /** PostgreSQL pool size. */
  poolSize?: number;
}

// int8 (bigint) columns hold epoch milliseconds and counts, all far below 2^53.
const INT8_OID = 20;
// json/jsonb stay text, as in SQLite, so readJson behaves the same on both engines
// (a pre-parsed JSON string would otherwise be indistinguishable from JSON text).
const JSON_OIDS = new Set([114, 3802]);
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      if (oid === INT8_OID) return (value: string) => Number(value);
      if (JSON_OIDS.has(oid)) return (value: string) => value;
    }
    return pg.types.getTypeParser(oid, format);
  },
};

export function createStore(options: StoreOptions): Store {
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    return createPostgresStore(options.databaseUrl, options.poolSize ?? 10);
  }
  return createSqliteStore(options.sqliteFile ?? ':memory:', options.sqliteSynchronous ?? 'NORMAL');
}

function createPostgresStore(connectionString: string, max: number): Store {
  const pool = new pg.Pool({ connectionString, max, types: pgTypes });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // biome-ignore lint/complexity/noBannedTypes: see Store.db
  const db = new Kysely<{}>({ dialect: new PostgresDialect({ pool }) });
  return {
    dialect: 'postgres',
    db,
    connectionString,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function createSqliteStore(file: string, synchronous: 'NORMAL' | 'FULL'): Store {
  if (file !== ':memory:' && file !== '') {
    mkdirSync(dirname(file), { recursive: true });
    createPrivateFile(file);
  }
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${synchronous}`);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // biome-ignore lint/complexity/noBannedTypes: see Store.db
  const db = new Kysely<{}>({
    dialect: new ImmediateSqliteDialect({ database: cachingStatements(database) }),
  });
  return {
    dialect: 'sqlite',
    db,
    connectionString: undefined,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * Creates the database file empty with mode 0600 (the store holds sealed secrets and personal
 * data), before SQLite would create it with 0644. SQLite gives the -wal and -shm files the mode
 * of the database file. An existing file keeps its mode.
 */
function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return;
    throw error;
  }
  try {
    // Exactly 0600 whatever the umask.
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** Prepared statements kept per connection, least recently used dropped first. */
export const SQLITE_STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query it runs; preparing costs as much as running a small statement.
 * This keeps the prepared statements by SQL text (bounded, least recently used dropped), so a
 * query the code runs again (the same builder shape, other values) skips the parser and planner.
 * SQLite re-prepares a statement by itself when the schema changed (a migration). A statement
 * still iterating (a streamed query) is busy: the caller then gets a fresh one.
 */
function cachingStatements(database: SqliteDatabase.Database): KyselySqliteDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close() {
      cache.clear();
      database.close();
    },
    prepare(text: string) {
      const cached = cache.get(text);
      if (cached !== undefined) {
        if (cached.busy) return database.prepare(text);
        // Most recently used last: Map keeps insertion order.
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const statement = database.prepare(text);
      cache.set(text, statement);
      if (cache.size > SQLITE_STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      return statement;
    },
  };
}

/**
 * Transactions take the write lock at BEGIN. A deferred transaction that reads and then
 * writes fails with SQLITE_BUSY (no busy wait) when another process committed in between.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: SqliteDialectConfig) {
    super(sqliteConfig);
  }
  override createDriver(): Driver {
    return new (class extends SqliteDriver {
      override async beginTransaction(connection: DatabaseConnection): Promise<void> {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      }
    })(this.sqliteConfig);
  }
}

/** JSON columns come back as text from both engines (see pgTypes). */
export function readJson<T = unknown>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function writeJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}
