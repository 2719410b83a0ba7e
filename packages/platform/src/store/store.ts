import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
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
  /** SQLite only: transactions run synchronously on the connection (see SqliteAccess). */
  readonly sqlite: SqliteAccess | undefined;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A statement prepared once per SQL text (cached, see cachingStatements). */
export type SqliteStatement = SqliteDatabase.Statement;

export interface SqliteAccess {
  /** The database file's absolute path; undefined for an in-memory database. */
  readonly file: string | undefined;
  /**
   * Runs `work` in one immediate transaction on the store's connection, synchronously: no promise
   * between its statements, none of Kysely's per-query work. At once, unless a Kysely transaction
   * is open on the connection: then once it has ended. For a hot path whose statements are few
   * and fixed; it commits when `work` returns and rolls back when it throws.
   */
  transaction<T>(work: (prepare: (text: string) => SqliteStatement) => T): Promise<T>;
  /**
   * Runs `work` on the store's connection with no transaction around it (each statement commits
   * by itself), as `transaction` does otherwise: at once, unless a Kysely transaction is open.
   * For reads and single writes on a hot path, where BEGIN IMMEDIATE and COMMIT would cost more
   * than the statements.
   */
  direct<T>(work: (prepare: (text: string) => SqliteStatement) => T): Promise<T>;
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
    sqlite: undefined,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function createSqliteStore(file: string, synchronous: 'NORMAL' | 'FULL'): Store {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory) {
    mkdirSync(dirname(file), { recursive: true });
    createPrivateFile(file);
  }
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${synchronous}`);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const checkpointer = inMemory ? undefined : startCheckpointer(database, file);
  const statements = cachingStatements(database);
  const serveWalRestart = () => {
    if (checkpointer && Atomics.exchange(checkpointer.walRestartRequest, 0, 0) === 1) {
      try {
        database.exec('pragma wal_checkpoint(RESTART)');
      } catch {
        // Busy (another process holds a lock) or failed: the checkpointer asks again later.
      }
    }
  };
  // biome-ignore lint/complexity/noBannedTypes: see Store.db
  const db = new Kysely<{}>({
    dialect: new ImmediateSqliteDialect({ database: statements }, serveWalRestart),
  });
  const prepare = (text: string) => statements.prepare(text) as SqliteDatabase.Statement;
  // Made once: better-sqlite3 builds the wrapper (its begin/commit statements) per call otherwise.
  const inTransaction = database.transaction(<T>(work: (p: typeof prepare) => T): T => work(prepare));
  const inImmediateTransaction = <T>(work: (p: typeof prepare) => T): T => inTransaction.immediate(work) as T;
  const outsideTransaction = <T>(work: (p: typeof prepare) => T): T => work(prepare);
  // better-sqlite3 runs every statement synchronously and nothing here streams rows, so the
  // connection is in use across event-loop turns only inside a Kysely transaction: outside one,
  // `run` runs at once, with none of Kysely's connection hand-over per call.
  const onConnection = <T>(run: (work: (p: typeof prepare) => T) => T, work: (p: typeof prepare) => T) => {
    if (!database.inTransaction) {
      try {
        serveWalRestart();
        return Promise.resolve(run(work));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // Holding Kysely's connection waits for that transaction to end, and keeps others out.
    return db.connection().execute(async () => run(work));
  };
  return {
    dialect: 'sqlite',
    db,
    connectionString: undefined,
    sqlite: {
      file: inMemory ? undefined : resolve(file),
      transaction: <T>(work: (p: typeof prepare) => T): Promise<T> =>
        onConnection(inImmediateTransaction, work),
      direct: <T>(work: (p: typeof prepare) => T): Promise<T> => onConnection(outsideTransaction, work),
    },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      // The checkpointer first: the main connection, closing last, then checkpoints the whole WAL
      // and deletes the file.
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/** How often the checkpointer looks at the WAL. */
const CHECKPOINT_INTERVAL_MS = 100;
/**
 * The WAL size from which the checkpointer copies it into the database: about 1000 pages, when
 * SQLite's automatic checkpoint would have run. Also the size the WAL file is cut back to when
 * it restarts (journal_size_limit), so that its size tells the checkpointer how much was written
 * since: a stat is cheap, and the counters in the -shm file cannot be read safely (closing any
 * descriptor of that file would drop the locks this process's connections hold on it). A larger
 * limit would make SQLite restart the WAL, which costs the main thread an fsync, far more often.
 */
const WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** Past this size, a WAL the checkpointer has caught up with is restarted by the main thread. */
const WAL_HARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The checkpointer, as CommonJS evaluated by the Worker: a worker file would need a path that
 * works from the TypeScript sources (tests, tsx) and from dist/ alike.
 *
 * PASSIVE never waits for, nor blocks, a reader or writer of any process, so it is safe next to
 * the main connection and next to the checkpointers of other processes on the same file (while
 * one runs, the others get busy and try again later). RESTART and TRUNCATE would wait for the
 * writers and block them.
 *
 * SQLite restarts the WAL from its beginning only when a transaction starts while every page in
 * it has been copied; pages committed during a checkpoint leave it behind, hence the rounds
 * until one finds nothing new: each has less to copy than the one before. A few only, as steady
 * writes may never let them finish, and the restart request (see startCheckpointer) is checked
 * after each, for the WAL keeps growing meanwhile.
 *
 * Any error (the file was deleted, the driver did not load) stops the checkpointer quietly, and
 * the main connection checkpoints by itself again (see startCheckpointer): not worth a crash or
 * noise.
 */
const CHECKPOINTER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const { driver, file, intervalMs, checkpointBytes, hardLimitBytes, walRestartRequest } = workerData;
const wal = file + '-wal';
let db;
let checkpoint;
let timer;
let restartRequestedAt = -1;

function stop() {
  clearInterval(timer);
  try {
    db?.close();
  } catch {}
  parentPort.close();
}

function walSize() {
  return statSync(wal, { throwIfNoEntry: false })?.size ?? 0;
}

function tick() {
  // While a restart is pending, a checkpoint here would only make the main thread's RESTART busy.
  if (Atomics.load(walRestartRequest, 0) === 1 || walSize() <= checkpointBytes) return;
  let previousLog = -1;
  for (let round = 0; round < 5; round++) {
    const { busy, log, checkpointed } = checkpoint.get();
    if (busy || log === previousLog) return;
    previousLog = log;
    if (log === checkpointed && log !== restartRequestedAt && walSize() > hardLimitBytes) {
      restartRequestedAt = log;
      Atomics.store(walRestartRequest, 0, 1);
      return;
    }
  }
}

parentPort.on('message', stop);
try {
  db = new (require(driver))(file, { fileMustExist: true });
  db.pragma('busy_timeout = 1000');
  checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
  timer = setInterval(() => {
    try {
      tick();
    } catch {
      stop();
    }
  }, intervalMs);
} catch {
  stop();
}
`;

/**
 * SQLite's automatic checkpoint runs inside the commit that crosses 1000 WAL pages, on the main
 * thread: it doubled the average commit cost and stalled the event loop 10-20 ms each time. The
 * main connection no longer checkpoints; a worker thread does, with a connection of its own.
 *
 * Under steady writes the checkpointer may never catch up with the WAL at the moment a
 * transaction starts, so SQLite would never restart it and it would grow without bound. Past
 * WAL_HARD_LIMIT_BYTES, the checkpointer sets `walRestartRequest` and the main connection runs
 * one RESTART checkpoint itself before its next query (see ImmediateSqliteDialect):
 * little is left to copy, and the next transaction then restarts the WAL. A flag read between
 * transactions rather than a message, which would wait for the event loop: a loop of queries
 * never yields to it.
 */
function startCheckpointer(
  database: SqliteDatabase.Database,
  file: string,
): { walRestartRequest: Int32Array; stop(): Promise<void> } {
  database.pragma('wal_autocheckpoint = 0');
  database.pragma(`journal_size_limit = ${WAL_CHECKPOINT_BYTES}`);
  const walRestartRequest = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(CHECKPOINTER_CODE, {
    eval: true,
    // Plain CommonJS whatever the process was started with (--input-type=module, --import tsx).
    execArgv: [],
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file: resolve(file),
      intervalMs: CHECKPOINT_INTERVAL_MS,
      checkpointBytes: WAL_CHECKPOINT_BYTES,
      hardLimitBytes: WAL_HARD_LIMIT_BYTES,
      walRestartRequest,
    },
  });
  let stopping = false;
  const exited = new Promise<void>((done) =>
    worker.once('exit', () => {
      // Gone unasked (it failed): SQLite's own checkpoints again, or the WAL would only grow.
      if (!stopping) {
        try {
          database.pragma('wal_autocheckpoint = 1000');
        } catch {}
      }
      done();
    }),
  );
  worker.on('error', () => {});
  // An open store must not keep a process alive; SQLite checkpoints when the last connection closes.
  worker.unref();
  return {
    walRestartRequest,
    async stop() {
      // Until the worker has exited, or the process could end under the caller awaiting close().
      stopping = true;
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
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
 *
 * The connection is acquired for each query or transaction: the one place where the
 * checkpointer's request to restart the WAL (see startCheckpointer) can be served at once,
 * outside any transaction.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqliteConfig: SqliteDialectConfig,
    private readonly serveWalRestart: () => void,
  ) {
    super(sqliteConfig);
  }
  override createDriver(): Driver {
    const serveWalRestart = this.serveWalRestart;
    return new (class extends SqliteDriver {
      override async beginTransaction(connection: DatabaseConnection): Promise<void> {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      }
      override async acquireConnection(): Promise<DatabaseConnection> {
        const connection = await super.acquireConnection();
        // better-sqlite3 is synchronous: the connection is idle here, outside any transaction.
        serveWalRestart();
        return connection;
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
