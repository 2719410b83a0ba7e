import { readFileSync } from 'node:fs';
import { describeConfig } from '@calmhub/platform';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rootPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** Table rows as trimmed cells, so column padding added by the formatter does not matter. */
const tableRows = readme
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );

describe('README', () => {
  it('documents every configuration key with its variable and default', () => {
    for (const entry of describeConfig()) {
      const defaultText = entry.default === '' ? '(empty)' : `\`${entry.default}\``;
      expect(tableRows).toContainEqual([
        `\`${entry.key}\``,
        `\`${entry.env}\``,
        defaultText,
        entry.description,
      ]);
    }
  });

  it('gives the two-command quick start that package.json actually provides', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    expect(rootPackage.scripts.start).toBeDefined();
    expect(rootPackage.scripts.test).toBe('vitest run');
  });
});
