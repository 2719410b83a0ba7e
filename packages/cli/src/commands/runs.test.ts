import { FakeCloudAlm } from '@calmhub/hub';
import {
  type CalmItems,
  FAKE_SECRET,
  fakeConnectors,
  givenCalmItems,
  givenScenario,
  givenUser,
  type Scenario,
  seedFakeCalm,
  startTestHub,
  type TestHub,
  waitForIdle,
} from '@calmhub/hub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calmhub } from '../testing/run-in-process.js';

describe('calmhub promote, runs, approve, retry, abort', () => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  let approver: string;
  const client = (token: string, ...args: string[]) => calmhub(...args, '--url', hub.url, '--token', token);

  beforeAll(async () => {
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    items = await givenCalmItems(hub, s);
    const tenantId = (await hub.call('GET', '/api/v1/me', { token: s.admin })).body.tenant.id;
    approver = (
      await givenUser(hub, tenantId, 'approver@example.com', { projectId: s.projectId, role: 'approver' })
    ).token;
    const created = await hub.call('POST', `/api/v1/projects/${s.projectId}/pipelines`, {
      token: s.admin,
      body: {
        name: 'Standard',
        stages: [
          { key: 'dev', name: 'Development' },
          {
            key: 'test',
            name: 'Quality',
            tasks: { pre: [{ type: 'approval', name: 'QA', roles: ['approver'] }] },
          },
        ],
      },
    });
    expect(created.status, created.text).toBe(201);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('promotes a story by its display id, shows the run, approves it and lists the timeline', async () => {
    const viewer = await client(s.viewer.token, 'promote', '6-12', '--project', 'Finance');
    expect(viewer.code).toBe(1);
    expect(viewer.err).toMatch(/Not allowed to runs.promote/);

    const promoted = await client(
      s.admin,
      'promote',
      '6-12',
      '--project',
      'Finance',
      '--stage',
      'test',
      '--json',
    );
    expect(promoted.code, promoted.err).toBe(0);
    const run = JSON.parse(promoted.out);
    expect(run).toMatchObject({ stage: 'test', fromStage: 'dev' });
    await waitForIdle(hub);

    const self = await client(s.admin, 'approve', run.id, '--comment', 'mine');
    expect(self.code).toBe(1);
    expect(self.err).toMatch(/segregation of duties/);
    const approved = await client(approver, 'approve', run.id, '--comment', 'checked in QAS');
    expect(approved.code, approved.err).toBe(0);
    await waitForIdle(hub);

    const shown = await client(s.admin, 'runs', run.id);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/state:\s+passed/);
    expect(shown.out).toMatch(/Approved by approver@example.com: checked in QAS/);
    const timeline = await client(
      s.viewer.token,
      'runs',
      '--story',
      '6-12',
      '--project',
      'Finance',
      '--json',
    );
    expect(timeline.code, timeline.err).toBe(0);
    const [entry] = JSON.parse(timeline.out);
    expect(entry.run.id).toBe(run.id);
    expect(entry.timeline.map((e: { state: string }) => e.state)).toContain('passed');
    const listed = await client(s.admin, 'runs', '--project', 'Finance');
    expect(listed.out).toContain(run.id);
    expect(items.stories.customer).toBeDefined();
  });

  it('rejects, retries and aborts a run', async () => {
    const promoted = JSON.parse(
      (await client(s.admin, 'promote', '6-21', '--project', 'Finance', '--json')).out,
    );
    await waitForIdle(hub);
    expect((await client(approver, 'approve', promoted.id, '--reject', '--comment', 'not yet')).code).toBe(0);
    await waitForIdle(hub);
    const retried = await client(s.admin, 'retry', promoted.id, '--json');
    expect(retried.code, retried.err).toBe(0);
    await waitForIdle(hub);
    const aborted = await client(s.admin, 'abort', promoted.id, '--json');
    expect(aborted.code, aborted.err).toBe(0);
    expect(JSON.parse(aborted.out).state).toBe('aborted');
    const again = await client(s.admin, 'abort', promoted.id);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/cannot be aborted/);
  });
});
