import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCloudAlm } from '@calmhub/hub';
import {
  type CalmItems,
  FAKE_SECRET,
  fakeConnectors,
  givenCalmItems,
  givenScenario,
  type Scenario,
  seedFakeCalm,
  startTestHub,
  type TestHub,
} from '@calmhub/hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calmhub } from '../testing/run-in-process.js';

const RELEASE_YAML = `# our release pipeline
name: Release
description: Test, then production
stages:
  - key: dev
    name: Development
  - key: test
    name: Test
    tasks:
      pre:
        - type: validation
          name: Ready?
  - key: prod
    name: Production
    tasks:
      pre:
        - type: approval
          name: Release manager
          roles: [release_manager]
`;

describe('calmhub pipelines and story dependencies', () => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  let dir: string;
  const client = (token: string, ...args: string[]) => calmhub(...args, '--url', hub.url, '--token', token);
  const admin = (...args: string[]) => client(s.admin, ...args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'calmhub-cli-pipelines-'));
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    items = await givenCalmItems(hub, s);
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a YAML file, lists, exports it back, and sets the default', async () => {
    const file = join(dir, 'release.yaml');
    writeFileSync(file, RELEASE_YAML);
    const created = await admin('pipelines', 'import', '--project', 'Finance', file);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toBe('created pipeline "Release" (version 1, default)\n');
    const again = await admin('pipelines', 'import', '--project', 'Finance', file, '--json');
    expect(JSON.parse(again.out)).toMatchObject({ outcome: 'unchanged', pipeline: { version: 1 } });
    writeFileSync(file, RELEASE_YAML.replace('name: Ready?', 'name: Ready to test?'));
    expect((await admin('pipelines', 'import', '--project', 'Finance', file)).out).toBe(
      'updated pipeline "Release" (version 2, default)\n',
    );
    writeFileSync(
      join(dir, 'hotfix.yaml'),
      'name: Hotfix\nstages:\n  - {key: dev, name: Dev}\n  - {key: prod, name: Prod}\n',
    );
    expect((await admin('pipelines', 'import', '--project', 'Finance', join(dir, 'hotfix.yaml'))).code).toBe(
      0,
    );

    const listed = await client(s.viewer.token, 'pipelines', '--project', 'Finance');
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toMatch(/^NAME\s+DEFAULT\s+VERSION\s+STAGES/);
    expect(listed.out).toMatch(/^Release\s+yes\s+2\s+dev → test → prod/m);
    expect(listed.out).toMatch(/^Hotfix\s+-\s+1\s+dev → prod/m);

    const exported = await client(s.viewer.token, 'pipelines', 'export', 'release');
    expect(exported.code, exported.err).toBe(0);
    expect(exported.out).toMatch(/^# calmhub release pipeline "Release", version 2\./);
    expect(exported.out).toContain('name: Ready to test?');
    const out = join(dir, 'exported.yaml');
    const written = await admin('pipelines', 'export', 'Release', '--version', '1', '--out', out);
    expect(written.out).toBe(`wrote "Release" version 1 to ${out}\n`);
    expect(readFileSync(out, 'utf8')).toContain('name: Ready?');

    const made = await admin('pipelines', 'default', 'Hotfix', '--project', 'Finance');
    expect(made.code, made.err).toBe(0);
    expect(made.out).toBe(`"Hotfix" is the project's default pipeline\n`);
    const shown = await admin('pipelines', 'show', 'Hotfix', '--json');
    expect(JSON.parse(shown.out)).toMatchObject({ name: 'Hotfix', isDefault: true });
  });

  it("prints the hub's errors: YAML line and column, the path in the definition, roles", async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'name: Broken\nstages:\n  - key: dev\n   name: Dev\n');
    const syntax = await admin('pipelines', 'import', '--project', 'Finance', broken);
    expect(syntax.code).toBe(1);
    expect(syntax.err).toMatch(/^error: Invalid YAML at line 4, column \d+: /);
    writeFileSync(broken, 'name: Broken\nstages:\n  - key: dev\n    name: Dev\n    colour: blue\n');
    const schema = await admin('pipelines', 'import', '--project', 'Finance', broken);
    expect(schema.err).toMatch(
      /^error: Invalid pipeline: stages\[0\]\.colour is not a known field \(line 5, column 5\)/,
    );
    const viewer = await client(s.viewer.token, 'pipelines', 'import', '--project', 'Finance', broken);
    expect(viewer.err).toContain('Not allowed to pipelines.manage');
    expect((await admin('pipelines', 'import', '--project', 'Finance', join(dir, 'missing.yaml'))).code).toBe(
      2,
    );
    expect((await admin('pipelines', 'export', 'Nope')).err).toBe('error: no pipeline "Nope"\n');
    expect((await admin('pipelines', 'import', broken)).err).toContain('--project is required');
  });

  it('lists, adds and removes a story dependency', async () => {
    const developer = (...args: string[]) => client(s.developer.token, 'stories', 'deps', ...args);
    const added = await developer('6-11', '--add', '6-12');
    expect(added.code, added.err).toBe(0);
    expect(added.out).toMatch(/^added: 6-11 depends on 6-12\n/);
    expect(added.out).toMatch(/^6-12\s+Customer refunds\s+CIPUSOPEN\s+yes\s+hub$/m);
    const listed = await client(s.viewer.token, 'stories', 'deps', '6-11', '--json');
    expect(JSON.parse(listed.out)).toMatchObject({
      items: [{ storyId: items.stories.customer?.id, open: true, source: 'hub' }],
      calm: { refreshed: true },
    });
    const cycle = await developer('6-12', '--add', '6-11');
    expect(cycle.code).toBe(1);
    expect(cycle.err).toContain('would close a cycle');
    const removed = await developer('6-11', '--remove', '6-12');
    expect(removed.out).toBe('removed: 6-11 depends on 6-12\n(none)\n');
  });
});
