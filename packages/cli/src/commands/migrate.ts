import { hubMigrationSets, hubSqliteFile } from '@calmhub/hub';
import { createStore, migrateToLatest } from '@calmhub/platform';
import type { Command } from './command.js';
import { parseServerArgs, serverFlagsHelp } from './config-args.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations and exit',
  help: [
    'Usage: calmhub migrate [options]',
    '',
    'Migrates the store named by DATABASE_URL (or the SQLite file in the data directory).',
    '',
    serverFlagsHelp,
  ].join('\n'),
  async run(args, io) {
    const { config } = parseServerArgs(args);
    const store = createStore({
      databaseUrl: config.databaseUrl,
      sqliteFile: hubSqliteFile(config),
      sqliteSynchronous: config.sqliteSynchronous,
    });
    try {
      const applied = await migrateToLatest(store, hubMigrationSets);
      io.stdout.write(
        applied.length
          ? `applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}\n`
          : 'already up to date\n',
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};
