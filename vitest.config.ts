import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources under the `calmhub-source` export
// condition, so tests never depend on a prior build.
const conditions = ['calmhub-source'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['scripts/test-global-setup.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
