// Imported by relative path, not as `@calmhub/hub` / `@calmhub/sandbox`: global setup must work on a
// fresh clone with no `dist/`. Their own `@calmhub/*` imports resolve to sources through the
// `calmhub-source` condition that vitest.config.ts gives the `__vitest__` environment.
import { hubMigrationSets } from '../packages/hub/src/store/migrations.js';
import { prepareTemplateDatabase, testDatabaseUrl } from '../packages/platform/src/testing/index.js';
import { sandboxMigrationSets } from '../packages/sandbox/src/app/start-sandbox.js';

/** Migrates the PostgreSQL template database once per run; test files clone it. */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (!testDatabaseUrl) {
    process.stdout.write(
      '\n[calmhub] NOTICE: CALMHUB_TEST_DATABASE_URL is not set: the PostgreSQL half of the suite is SKIPPED.\n' +
        '[calmhub] Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run every test on both stores.\n\n',
    );
    return undefined;
  }
  // One template serves both packages' tests: their own tables differ, and the jobs set they
  // share is tracked once.
  // Returned as the teardown: the template is dropped when the run ends.
  return prepareTemplateDatabase([...hubMigrationSets, ...sandboxMigrationSets]);
}
