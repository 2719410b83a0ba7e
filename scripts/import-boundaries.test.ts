import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');
// The project's own biome.json, in a scratch tree laid out like the repository.
const scratch = mkdtempSync(join(tmpdir(), 'calmhub-boundaries-'));
const config = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8'));
config.vcs = { enabled: false };
config.$schema = undefined;
writeFileSync(join(scratch, 'biome.json'), JSON.stringify(config));
let fixture = 0;

/** Lints `source` placed at `path` in the scratch tree; true when the boundary rule fires. */
function crossesBoundary(path: string, source: string): boolean {
  const file = join(scratch, path.replace(/\.ts$/, `${fixture++}.ts`));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${source}export {};\n`);
  const result = spawnSync(process.execPath, [biome, 'lint', file], { cwd: scratch, encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.includes('noRestrictedImports');
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('import boundaries enforced by npm run lint', () => {
  it.each([
    ['packages/hub/src/x.ts', "import '@calmhub/sandbox';\n"],
    ['packages/hub/src/x.ts', "import '../../sandbox/src/seed/seed.js';\n"],
    ['packages/sandbox/src/x.ts', "import '@calmhub/hub';\n"],
    ['packages/platform/src/x.ts', "export * from '@calmhub/sandbox';\n"],
    ['packages/mapping/src/x.ts', "import '@calmhub/platform';\n"],
  ])('refuses %s: %s', (path, source) => {
    expect(crossesBoundary(path, source)).toBe(true);
  });

  it.each([
    ['packages/hub/src/x.ts', "import '@calmhub/platform';\n"],
    ['packages/sandbox/src/x.ts', "import '@calmhub/mapping';\n"],
    ['packages/cli/src/x.ts', "import '@calmhub/sandbox';\n"],
  ])('allows %s: %s', (path, source) => {
    expect(crossesBoundary(path, source)).toBe(false);
  });
});
