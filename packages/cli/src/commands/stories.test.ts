import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

describe('calmhub stories and components', () => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  let dir: string;
  const client = (...args: string[]) => calmhub(...args, '--url', hub.url, '--token', s.developer.token);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'calmhub-cli-stories-'));
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

  it('lists stories grouped by feature, filtered, as a table or JSON', async () => {
    const listed = await client('stories', '--project', 'Finance');
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toContain('FEATURE 6-1  Payment run  [In Implementation (CIPREQUINP)]');
    expect(listed.out).toContain(
      '/launchpad#feature-display?sap-ui-app-id-hint=com.sap.calm.imp.cdm.features.ui&/list/details/',
    );
    expect(listed.out).toMatch(/^ {2}STORY\s+TITLE\s+STATUS/m);
    expect(listed.out).toMatch(/^ {2}6-11\s+Vendor payment proposal\s+CIPUSINP/m);
    expect(listed.out).toContain('NO FEATURE');
    expect(listed.out.indexOf('6-1 ')).toBeLessThan(listed.out.indexOf('FEATURE 6-2'));
    expect(listed.out).toContain('stories 1-4 of 4');

    const filtered = await client(
      'stories',
      '--project',
      'Finance',
      '--status',
      'CIPUSOPEN',
      '--feature-status',
      'CIPREQUINP,CIPREQUOPEN',
      '--json',
    );
    const page = JSON.parse(filtered.out);
    expect(
      page.groups.map((g: { stories: Array<{ displayId: string }> }) => g.stories.map((x) => x.displayId)),
    ).toEqual([['6-12'], ['6-21']]);
    const searched = await client('stories', '--project', 'Finance', '--search', 'vendor', '--limit', '1');
    expect(searched.out).toContain('6-11');
    expect(searched.out).not.toContain('6-12');
  });

  it('shows a story by its Cloud ALM display id, description as text', async () => {
    const shown = await client('stories', 'show', '6-11');
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/story:\s+6-11 {2}Vendor payment proposal/);
    expect(shown.out).toMatch(/feature:\s+6-1 {2}Payment run/);
    expect(shown.out).toContain('#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/');
    expect(shown.out).toContain('(link form inferred)');
    expect(shown.out).toContain('Pay vendors');
    expect(shown.out).not.toContain('alert');
    expect(shown.out).toContain('STATUS HISTORY');
    const byId = await client('stories', 'show', items.stories.customer?.id as string, '--json');
    expect(JSON.parse(byId.out).displayId).toBe('6-12');
    const missing = await client('stories', 'show', '9-99');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no story "9-99"');
  });

  it('adds, lists and removes components; a transport of another story is refused unless shared', async () => {
    const file = join(dir, 'objects.txt');
    writeFileSync(file, 'R3TR CLAS ZCL_PAYMENT_RUN\nR3TR PROG ZPAY_REPORT\n');
    const added = await client('components', 'add', '6-11', '--transport', 's4dk900121', '--objects', file);
    expect(added.code, added.err).toBe(0);
    expect(added.out).toMatch(
      /abap_transport\s+S4DK900121\s+modifiable {2}S4D→S4Q {2}2 object\(s\) {2}Payment run fixes/,
    );

    const refused = await client('components', 'add', '6-12', '--transport', 'S4DK900121');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('already attached to story 6-11 "Vendor payment proposal"');
    expect(
      (await client('components', 'add', '6-12', '--transport', 'S4DK900121', '--allow-shared')).code,
    ).toBe(0);

    const cpi = await client(
      'components',
      'add',
      '6-11',
      '--cpi-package',
      'com.acme',
      '--cpi-artifact',
      'PayFlow',
      '--version',
      '1.0.0',
      '--json',
    );
    expect(cpi.code, cpi.err).toBe(0);
    const cpiId = JSON.parse(cpi.out).id;
    const doc = await client(
      'components',
      'add',
      '6-11',
      '--deliverable',
      'Test evidence',
      '--url',
      'https://wiki.example.com/1',
    );
    expect(doc.code, doc.err).toBe(0);

    const listed = await client('components', 'list', '6-11');
    expect(listed.out).toMatch(/^KIND\s+COMPONENT\s+DETAILS\s+ID/);
    expect(listed.out).toContain('com.acme/PayFlow@1.0.0');
    expect(listed.out).toContain('Test evidence');
    const suggested = await client('components', 'suggest', '6-11');
    expect(suggested.out).toContain('S4DK900122');
    expect(suggested.out).not.toContain('S4DK900121');

    const removed = await client('components', 'remove', cpiId);
    expect(removed.out).toBe(`detached ${cpiId}\n`);
    expect((await client('components', '6-11')).out).not.toContain('PayFlow');

    const bad = await client('components', 'add', '6-11', '--transport', 'S4DK1');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('body/abapTransport/number');
    const none = await client('components', 'add', '6-11');
    expect(none.code).toBe(2);
    const denied = await calmhub(
      'components',
      'add',
      '6-11',
      '--deliverable',
      'x',
      '--url',
      'https://x.example',
      '--url',
      hub.url,
      '--token',
      s.viewer.token,
    );
    expect(denied.code).toBe(1);
    expect(denied.err).toContain('components.manage');
  });
});
