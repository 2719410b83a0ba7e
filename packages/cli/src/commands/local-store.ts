import { type Hub, hubMigrationSets, hubSqliteFile } from '@calmhub/hub';
import { type Config, createStore, migrateToLatest } from '@calmhub/platform';

type Deps = Pick<Hub['deps'], 'db' | 'clock'>;

/**
 * The hub's store opened directly, for the commands an operator runs where the server's data lives
 * (like `serve`): they work before any token exists.
 */
export async function withHubStore<T>(config: Config, run: (deps: Deps) => Promise<T>): Promise<T> {
  const store = createStore({
    databaseUrl: config.databaseUrl,
    sqliteFile: hubSqliteFile(config),
    sqliteSynchronous: config.sqliteSynchronous,
  });
  try {
    await migrateToLatest(store, hubMigrationSets);
    return await run({ db: store.db as unknown as Deps['db'], clock: { now: () => Date.now() } });
  } finally {
    await store.close();
  }
}
