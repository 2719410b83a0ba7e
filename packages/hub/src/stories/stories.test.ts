import { FakeClock, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { type CalmItems, EXAMPLE_CALM_ITEMS, givenCalmItems } from '../testing/calm-items.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import { FAKE_SECRET, givenScenario, type Scenario, seedFakeCalm } from '../testing/scenario.js';
import { givenUser, startTestHub, type TestHub } from '../testing/test-hub.js';
import { calmDeepLink, calmUiBase } from './deep-links.js';

const CALM_UI = 'https://tenant.eu10.alm.cloud.sap';

const SPEC = {
  ...EXAMPLE_CALM_ITEMS,
  stories: [
    ...(EXAMPLE_CALM_ITEMS.stories ?? []),
    {
      key: 'gone',
      feature: 'payments',
      displayId: '6-13',
      title: 'Withdrawn story',
      status: 'CIPUSOPEN',
      obsolete: true,
    },
    {
      key: 'percent',
      feature: 'reports',
      displayId: '6-22',
      title: '100% coverage report',
      status: 'CIPUSINP',
    },
  ],
};

interface Group {
  feature: {
    id: string;
    displayId: string;
    title: string;
    status: { code: string; name: string | null };
  } | null;
  stories: Array<{ id: string; displayId: string; title: string }>;
}
const shape = (groups: Group[]) =>
  groups.map((g) => [g.feature?.displayId ?? null, g.stories.map((s) => s.displayId)]);

describe('Cloud ALM deep links', () => {
  it('opens features and user stories in the Cloud ALM launchpad, from the API host without /api', () => {
    expect(calmUiBase('https://t.eu10.alm.cloud.sap/api/')).toBe('https://t.eu10.alm.cloud.sap');
    expect(calmDeepLink('https://t.eu10.alm.cloud.sap/api', 'feature', 'f-1')).toEqual({
      url: 'https://t.eu10.alm.cloud.sap/launchpad#feature-display?sap-ui-app-id-hint=com.sap.calm.imp.cdm.features.ui&/list/details/f-1',
      inferred: false,
    });
    expect(calmDeepLink('https://t.eu10.alm.cloud.sap/api', 'story', 't-1')).toEqual({
      url: 'https://t.eu10.alm.cloud.sap/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/t-1',
      inferred: true,
    });
  });
});

describe.each(testEngines)('user stories (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  const clock = new FakeClock();
  const get = (path: string, token = s.admin) => hub.call('GET', path, { token });
  const list = (query = '', token = s.admin) => get(`/api/v1/projects/${s.projectId}/stories${query}`, token);

  beforeAll(async () => {
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ engine, clock, connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    items = await givenCalmItems(hub, s, SPEC);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('lists the stories grouped under their features, stories of no feature last', async () => {
    const answer = await list();
    expect(answer.status, answer.text).toBe(200);
    expect(shape(answer.body.groups)).toEqual([
      ['6-1', ['6-11', '6-12']],
      ['6-2', ['6-21', '6-22']],
      [null, ['6-31']],
    ]);
    expect(answer.body).toMatchObject({ total: 5, limit: 50, offset: 0, nextOffset: null });
    const [payments] = answer.body.groups;
    expect(payments.feature).toMatchObject({
      id: items.features.payments?.id,
      title: 'Payment run',
      status: { code: 'CIPREQUINP', name: 'In Implementation' },
      obsolete: false,
      externalId: {
        id: '6-1',
        url: `${CALM_UI}/launchpad#feature-display?sap-ui-app-id-hint=com.sap.calm.imp.cdm.features.ui&/list/details/${items.features.payments?.calmUuid}`,
        inferred: false,
      },
    });
    expect(payments.stories[0]).toMatchObject({
      id: items.stories.vendor?.id,
      calmId: items.stories.vendor?.calmId,
      status: 'CIPUSINP',
      labels: [],
      componentCount: 0,
      externalId: {
        id: '6-11',
        url: `${CALM_UI}/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/${items.stories.vendor?.calmId}`,
        inferred: true,
      },
    });
  });

  it('filters by feature status, story status, text and feature; obsolete stories only when asked', async () => {
    expect(shape((await list('?featureStatus=CIPREQUOPEN')).body.groups)).toEqual([
      ['6-2', ['6-21', '6-22']],
    ]);
    expect(shape((await list('?status=CIPUSINP')).body.groups)).toEqual([
      ['6-1', ['6-11']],
      ['6-2', ['6-22']],
    ]);
    expect(
      shape((await list('?status=CIPUSINP&status=CIPUSOPEN&featureStatus=CIPREQUINP')).body.groups),
    ).toEqual([['6-1', ['6-11', '6-12']]]);
    expect(shape((await list('?search=REFUND')).body.groups)).toEqual([['6-1', ['6-12']]]);
    expect(shape((await list('?search=6-3')).body.groups)).toEqual([[null, ['6-31']]]);
    // `%` is a character to find, not a wildcard.
    expect(shape((await list(`?search=${encodeURIComponent('0%')}`)).body.groups)).toEqual([
      ['6-2', ['6-22']],
    ]);
    expect(shape((await list(`?search=${items.stories.balance?.calmId}`)).body.groups)).toEqual([
      ['6-2', ['6-21']],
    ]);
    expect(shape((await list(`?featureId=${items.features.payments?.id}`)).body.groups)).toEqual([
      ['6-1', ['6-11', '6-12']],
    ]);
    const all = await list('?includeObsolete=true');
    expect(shape(all.body.groups)[0]).toEqual(['6-1', ['6-11', '6-12', '6-13']]);
    expect(all.body.total).toBe(6);
    const bad = await list('?status=bad%20code');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('querystring/status');
  });

  it('pages by story and sorts within each feature', async () => {
    const first = await list('?limit=3');
    expect(shape(first.body.groups)).toEqual([
      ['6-1', ['6-11', '6-12']],
      ['6-2', ['6-21']],
    ]);
    expect(first.body).toMatchObject({ total: 5, nextOffset: 3 });
    const second = await list('?limit=3&offset=3');
    expect(shape(second.body.groups)).toEqual([
      ['6-2', ['6-22']],
      [null, ['6-31']],
    ]);
    expect(second.body.nextOffset).toBeNull();
    const byTitle = await list('?sort=title');
    expect(shape(byTitle.body.groups)).toEqual([
      ['6-1', ['6-12', '6-11']],
      ['6-2', ['6-22', '6-21']],
      [null, ['6-31']],
    ]);
    const byDisplayIdDown = await list('?sort=displayId&order=desc');
    expect(shape(byDisplayIdDown.body.groups)).toEqual([
      ['6-1', ['6-12', '6-11']],
      ['6-2', ['6-22', '6-21']],
      [null, ['6-31']],
    ]);
  });

  it('shows a story: Cloud ALM fields, sanitised description, feature, transitions, sync time', async () => {
    const story = await get(`/api/v1/stories/${items.stories.vendor?.id}`);
    expect(story.status, story.text).toBe(200);
    expect(story.body.descriptionHtml).toBe('<p>Pay <b>vendors</b></p>');
    expect(story.text).not.toContain('<script');
    expect(story.text).not.toContain('onerror');
    expect(story.body).toMatchObject({
      displayId: '6-11',
      title: 'Vendor payment proposal',
      integration: { id: s.integrationId, name: 'Cloud ALM' },
      feature: { id: items.features.payments?.id, displayId: '6-1' },
      calm: { type: 'CALMUS', storyPoints: 5, assigneeName: 'dev@example.com', dueDate: null },
      transitions: [
        { from: 'CIPUSOPEN', to: 'CIPUSINP', changedAt: '2026-11-02T00:00:00.000Z', source: 'full' },
      ],
      syncedAt: new Date(clock.now()).toISOString(),
      notes: null,
      components: [],
    });
    const loose = await get(`/api/v1/stories/${items.stories.loose?.id}`);
    expect(loose.body).toMatchObject({ feature: null, descriptionHtml: null, transitions: [] });
  });

  it('shows a feature with its stories and the transports Cloud ALM lists on it', async () => {
    const feature = await get(`/api/v1/features/${items.features.payments?.id}`);
    expect(feature.status, feature.text).toBe(200);
    expect(feature.body.stories.map((x: { displayId: string }) => x.displayId)).toEqual(['6-11', '6-12']);
    expect(feature.body.transports).toEqual([
      expect.objectContaining({
        number: 'S4DK900121',
        owner: 'DEV1',
        sourceSystem: 'S4D',
        targetSystem: 'S4Q',
      }),
      expect.objectContaining({ number: 'S4DK900122', status: 'released' }),
    ]);
    expect(feature.body.transitions).toEqual([expect.objectContaining({ to: 'CIPREQUINP' })]);
    expect(feature.body.status).toEqual({ code: 'CIPREQUINP', name: 'In Implementation' });
    const withObsolete = await get(`/api/v1/features/${items.features.payments?.id}?includeObsolete=true`);
    expect(withObsolete.body.stories).toHaveLength(3);
  });

  it("edits a story's hub-side fields, stamped with who and when; viewers may not", async () => {
    clock.advance(60_000);
    const path = `/api/v1/stories/${items.stories.customer?.id}`;
    const edited = await hub.call('PATCH', path, {
      token: s.developer.token,
      body: { notes: '  Needs the bank file format  ', labels: ['banking', 'wave-2'] },
    });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body).toMatchObject({
      notes: 'Needs the bank file format',
      labels: ['banking', 'wave-2'],
      hubFieldsUpdatedBy: s.developer.userId,
      hubFieldsUpdatedAt: new Date(clock.now()).toISOString(),
    });
    const labelsOnly = await hub.call('PATCH', path, { token: s.admin, body: { labels: [] } });
    expect(labelsOnly.body).toMatchObject({
      notes: 'Needs the bank file format',
      labels: [],
      hubFieldsUpdatedBy: s.adminUserId,
    });
    const denied = await hub.call('PATCH', path, { token: s.viewer.token, body: { notes: 'x' } });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('stories.edit');
    const badLabel = await hub.call('PATCH', path, { token: s.admin, body: { labels: ['a,b'] } });
    expect(badLabel.status).toBe(400);
    expect(badLabel.body.error.message).toContain('body/labels/0');
    await hub.call('PATCH', path, { token: s.admin, body: { labels: ['banking'] } });
    const listed = await list('?search=refund');
    expect(listed.body.groups[0].stories[0].labels).toEqual(['banking']);
  });

  it('documents the routes and views in the OpenAPI document', async () => {
    const doc = await hub.call('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/projects/{id}/stories',
        '/api/v1/stories/{id}',
        '/api/v1/features/{id}',
      ]),
    );
    expect(Object.keys(doc.body.components.schemas)).toEqual(
      expect.arrayContaining(['Story', 'StorySummary', 'Feature', 'FeatureSummary', 'CalmLink', 'Component']),
    );
  });

  it('keeps other tenants and non-members out: 404, as for a missing story', async () => {
    const other = s.otherTenant.adminToken;
    expect((await get(`/api/v1/stories/${items.stories.vendor?.id}`, other)).status).toBe(404);
    expect((await get(`/api/v1/features/${items.features.payments?.id}`, other)).status).toBe(404);
    expect((await list('', other)).status).toBe(404);
    const me = await get('/api/v1/me');
    const outsider = await givenUser(hub, me.body.tenant.id, 'outsider@example.com');
    const hidden = await get(`/api/v1/stories/${items.stories.vendor?.id}`, outsider.token);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.message).toBe(`No story with id ${items.stories.vendor?.id}`);
    const viewer = await list('', s.viewer.token);
    expect(viewer.body.total).toBe(5);
  });
});
