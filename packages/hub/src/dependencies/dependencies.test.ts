import { testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { type CalmItems, EXAMPLE_CALM_ITEMS, givenCalmItems } from '../testing/calm-items.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import {
  FAKE_CALM_PROJECT,
  FAKE_SECRET,
  givenScenario,
  type Scenario,
  seedFakeCalm,
} from '../testing/scenario.js';
import { startTestHub, type TestHub } from '../testing/test-hub.js';
import { DONE_STORY_STATUSES, openDependencies } from './open-dependencies.js';
import { dependedOnTaskIds, refreshCalmDependencies } from './refresh-calm-dependencies.js';

describe('Cloud ALM relations as dependencies', () => {
  const relation = (sourceTaskId: string, targetTaskId: string, type: string) => ({
    id: `${sourceTaskId}-${targetTaskId}`,
    sourceTaskId,
    targetTaskId,
    type,
  });

  it('reads DEPENDS_ON from the story and BLOCKS onto it; other types and self-links are none', () => {
    expect(
      dependedOnTaskIds('a', [
        relation('a', 'b', 'DEPENDS_ON'),
        relation('c', 'a', 'DEPENDS_ON'),
        relation('d', 'a', 'BLOCKS'),
        relation('a', 'e', 'BLOCKS'),
        relation('a', 'f', 'RELATES_TO'),
        relation('a', 'a', 'DEPENDS_ON'),
        relation('a', 'b', 'DEPENDS_ON'),
      ]),
    ).toEqual(['b', 'd']);
  });
});

describe.each(testEngines)('story dependencies (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  let calm: FakeCloudAlm;
  let tenantId: string;
  const id = (key: string) => items.stories[key]?.id as string;
  const calmId = (key: string) => items.stories[key]?.calmId as string;
  const list = (key: string, token = s.viewer.token) =>
    hub.call('GET', `/api/v1/stories/${id(key)}/dependencies`, { token });
  const add = (key: string, dependsOn: string, token = s.developer.token) =>
    hub.call('POST', `/api/v1/stories/${id(key)}/dependencies`, { token, body: { dependsOn } });
  const remove = (key: string, dependsOn: string, token = s.developer.token) =>
    hub.call('DELETE', `/api/v1/stories/${id(key)}/dependencies/${dependsOn}`, { token });

  beforeAll(async () => {
    calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ engine, connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    items = await givenCalmItems(hub, s, {
      ...EXAMPLE_CALM_ITEMS,
      stories: [
        ...(EXAMPLE_CALM_ITEMS.stories ?? []),
        { key: 'closed', displayId: '6-41', title: 'Closed story', status: 'CIPUSCLOSE' },
        { key: 'gone', displayId: '6-42', title: 'Gone story', obsolete: true },
      ],
    });
    // Cloud ALM has the same user stories (the hub's copy names them by their task ids).
    for (const [key, story] of Object.entries(items.stories))
      calm.tasks.push({
        id: story.calmId,
        displayId: key,
        title: key,
        description: undefined,
        type: 'CALMUS',
        status: 'CIPUSOPEN',
        subStatus: undefined,
        priorityId: undefined,
        assigneeId: undefined,
        projectId: FAKE_CALM_PROJECT.id,
        modifiedAt: 0,
        raw: {},
      });
    tenantId = (await hub.call('GET', '/api/v1/me', { token: s.admin })).body.tenant.id;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('records, lists and removes dependencies added in the hub', async () => {
    const added = await add('vendor', id('customer'));
    expect(added.status, added.text).toBe(201);
    expect(added.body).toMatchObject({
      storyId: id('customer'),
      displayId: '6-12',
      title: 'Customer refunds',
      status: 'CIPUSOPEN',
      open: true,
      source: 'hub',
      createdBy: s.developer.userId,
    });
    expect((await add('vendor', id('closed'))).status).toBe(201);
    const listed = await list('vendor');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.calm).toEqual({ refreshed: true, message: null });
    expect(listed.body.items.map((d: { displayId: string; open: boolean }) => [d.displayId, d.open])).toEqual(
      [
        ['6-12', true],
        ['6-41', false],
      ],
    );
    expect(await openDependencies(hub.hub.deps.db, tenantId, id('vendor'))).toEqual([
      {
        storyId: id('customer'),
        displayId: '6-12',
        title: 'Customer refunds',
        status: 'CIPUSOPEN',
        source: 'hub',
        label: '6-12 Customer refunds',
      },
    ]);
    expect(DONE_STORY_STATUSES).toContain('CIPUSCLOSE');

    expect((await remove('vendor', id('closed'))).status).toBe(204);
    expect((await remove('vendor', id('closed'))).status).toBe(404);
    expect((await list('vendor')).body.items).toHaveLength(1);
  });

  it('refuses itself, the same pair twice, cycles, unknown stories and other tenants', async () => {
    const self = await add('balance', id('balance'));
    expect(self.status).toBe(400);
    expect(self.body.error.message).toBe('dependsOn cannot be the story itself');
    const twice = await add('vendor', id('customer'));
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toBe('Story 6-11 already depends on 6-12');
    expect((await add('customer', id('balance'))).status).toBe(201);
    const cycle = await add('balance', id('vendor'));
    expect(cycle.status).toBe(409);
    expect(cycle.body.error.message).toContain('would close a cycle');
    const unknown = await add('balance', '00000000-0000-4000-8000-000000000001');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('dependsOn names no story you can see');
    const other = s.otherTenant.adminToken;
    expect((await add('balance', id('loose'), other)).status).toBe(404);
    expect((await list('balance', other)).status).toBe(404);
    expect((await remove('customer', id('balance'), other)).status).toBe(404);
    expect((await add('balance', id('loose'), s.viewer.token)).status).toBe(403);
    expect((await remove('customer', id('balance'), s.viewer.token)).status).toBe(403);
    expect(await openDependencies(hub.hub.deps.db, s.otherTenant.tenantId, id('vendor'))).toEqual([]);
  });

  it("takes in Cloud ALM's task relations, replaced on every read, and keeps them apart from the hub's", async () => {
    const dependsOn = calm.addRelation(calmId('loose'), calmId('balance'), 'DEPENDS_ON');
    calm.addRelation(calmId('gone'), calmId('loose'), 'BLOCKS');
    calm.addRelation(calmId('loose'), calmId('vendor'), 'RELATES_TO');
    // A task the hub does not know is no dependency.
    calm.addRelation(calmId('loose'), '00000000-0000-4000-8000-0000000000aa', 'DEPENDS_ON');

    const listed = await list('loose');
    expect(listed.status, listed.text).toBe(200);
    expect(
      listed.body.items.map((d: { displayId: string; source: string; open: boolean; createdBy: string }) => [
        d.displayId,
        d.source,
        d.open,
        d.createdBy,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['6-21', 'calm', true, 'calm'],
        ['6-42', 'calm', false, 'calm'],
      ]),
    );
    expect(listed.body.items).toHaveLength(2);
    // Gone from Cloud ALM (obsolete): holds nothing up.
    expect((await openDependencies(hub.hub.deps.db, tenantId, id('loose'))).map((d) => d.displayId)).toEqual([
      '6-21',
    ]);

    const fromCalm = await remove('loose', id('balance'));
    expect(fromCalm.status).toBe(409);
    expect(fromCalm.body.error.message).toContain('remove the relation in Cloud ALM');
    expect((await add('loose', id('balance'))).status).toBe(409);

    calm.removeRelation(dependsOn.id);
    expect(await refreshCalmDependencies(hub.hub.deps, tenantId, id('loose'))).toEqual({
      dependsOn: [id('gone')],
    });
    // The hub's own rows stay whatever Cloud ALM says.
    expect((await list('vendor')).body.items.map((d: { source: string }) => d.source)).toEqual(['hub']);
  });

  it('answers the stored dependencies when Cloud ALM cannot be reached', async () => {
    calm.failNext = new RemoteCallError('cloud_alm', 'Cloud ALM unreachable: connection reset', {
      retryable: true,
    });
    const listed = await list('loose');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.calm).toEqual({
      refreshed: false,
      message: 'Cloud ALM unreachable: connection reset',
    });
    expect(listed.body.items.map((d: { displayId: string }) => d.displayId)).toEqual(['6-42']);
    calm.failNext = new RemoteCallError('cloud_alm', 'Cloud ALM answered 503', { retryable: true });
    await expect(refreshCalmDependencies(hub.hub.deps, tenantId, id('loose'))).rejects.toBeInstanceOf(
      RemoteCallError,
    );
    expect(await refreshCalmDependencies(hub.hub.deps, s.otherTenant.tenantId, id('loose'))).toBeUndefined();
  });

  it('records hub-side changes in the audit log', async () => {
    const audit = await hub.call(
      'GET',
      `/api/v1/projects/${s.projectId}/audit?kind=story.dependency_added&kind=story.dependency_removed&limit=50`,
      { token: s.admin },
    );
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.items.map((e: { kind: string }) => e.kind).sort()).toEqual([
      'story.dependency_added',
      'story.dependency_added',
      'story.dependency_added',
      'story.dependency_removed',
    ]);
    expect(audit.body.items.at(-1)).toMatchObject({
      kind: 'story.dependency_added',
      role: 'developer',
      object: { kind: 'story', id: id('vendor'), label: '6-11' },
      after: { storyId: id('customer'), source: 'hub' },
    });
  });
});
