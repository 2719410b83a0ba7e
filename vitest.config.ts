import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources under the `calmhub-source` export
// condition, so tests never depend on a prior build. The condition must reach every Vite
// environment that loads our code: the test files run in `ssr`, but global setup runs in Vitest's
// own `__vitest__` environment, which does not inherit `ssr.resolve` (without it, a fresh clone
// with no `dist/` fails with ERR_RESOLVE_PACKAGE_ENTRY_FAIL before any test runs).
const conditions = ['calmhub-source'];
const sourceResolve = { conditions, externalConditions: conditions };

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: sourceResolve },
  environments: { __vitest__: { resolve: sourceResolve } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
    globalSetup: ['scripts/test-global-setup.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
