import { hubMigrationSets } from '@calmhub/hub';
import { prepareTemplateDatabase, testDatabaseUrl } from '@calmhub/platform/testing';
import { sandboxMigrationSets } from '@calmhub/sandbox';

/** Migrates the PostgreSQL template database once per run; test files clone it. */
export default async function setup(): Promise<void> {
  if (!testDatabaseUrl) {
    process.stdout.write(
      '\n[calmhub] NOTICE: CALMHUB_TEST_DATABASE_URL is not set: the PostgreSQL half of the suite is SKIPPED.\n' +
        '[calmhub] Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run every test on both stores.\n\n',
    );
    return;
  }
  // Hub and sandbox tables have distinct names, so one template serves both packages' tests.
  await prepareTemplateDatabase([...hubMigrationSets, ...sandboxMigrationSets]);
}
