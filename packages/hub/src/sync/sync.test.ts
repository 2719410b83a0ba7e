import { testEngines } from '@calmhub/platform/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { seedCalmProject } from '../testing/calm-project.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import {
  FAKE_CALM_PROJECT,
  FAKE_SECRET,
  givenScenario,
  type Scenario,
  seedFakeCalm,
} from '../testing/scenario.js';
import { startTestHub, type TestHub, waitForIdle } from '../testing/test-hub.js';
import { applyFeatures } from './apply-items.js';

describe.each(testEngines)('sync engine over a fake Cloud ALM (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let calm: FakeCloudAlm;

  beforeEach(async () => {
    calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    calm.addProject({ id: 'other-project', name: 'Other', status: 'O' });
    hub = await startTestHub({
      engine,
      connectors: fakeConnectors(calm),
      config: { syncPageSize: 4, syncOverlapMs: 0 },
    });
    s = await givenScenario(hub);
    // Sync alone: no status actions and no write-backs, so every Cloud ALM call counted is the sync's.
    await hub.call('PUT', `/api/v1/integrations/${s.integrationId}/status-actions`, {
      token: s.admin,
      body: { items: [] },
    });
    await hub.call('PUT', `/api/v1/integrations/${s.integrationId}/writeback-settings`, {
      token: s.admin,
      body: { targets: { story_comment: false, feature_line: false, feature_reference: false } },
    });
    await waitForIdle(hub);
  });
  afterEach(async () => {
    await hub?.stop();
  });

  async function sync(mode: 'full' | 'delta' | 'sweep') {
    const started = await hub.call('POST', `/api/v1/integrations/${s.integrationId}/sync`, {
      token: s.admin,
      body: { mode },
    });
    expect(started.status, started.text).toBe(202);
    for (let i = 0; i < 400; i++) {
      const run = await hub.call('GET', `/api/v1/sync-runs/${started.body.id}`, { token: s.admin });
      if (run.body.state === 'succeeded' || run.body.state === 'failed') return run.body;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('sync did not finish');
  }

  const rows = (table: 'hub_calm_features' | 'hub_calm_stories') =>
    hub.hub.deps.db.selectFrom(table).selectAll().where('integration_id', '=', s.integrationId).execute();

  it('a full sync brings every feature with exactly its stories and transports, nothing of another project, in ⌈n/page⌉ calls', async () => {
    const mine = seedCalmProject(calm, {
      projectId: FAKE_CALM_PROJECT.id,
      tag: 1,
      features: 6,
      storiesPerFeature: 3,
    });
    seedCalmProject(calm, { projectId: 'other-project', tag: 2, features: 2, storiesPerFeature: 2 });
    const callsBefore = calm.calls;
    const run = await sync('full');
    expect(run).toMatchObject({
      state: 'succeeded',
      mode: 'full',
      counts: { created: 24, obsolete: 0, transitions: 0 },
    });
    const features = await rows('hub_calm_features');
    expect(features.map((f) => f.calm_uuid).sort()).toEqual(mine.features.map((f) => f.uuid).sort());
    const stories = await rows('hub_calm_stories');
    expect(stories).toHaveLength(18);
    for (const story of stories) {
      const link = calm.assignments.find((a) => a.taskId === story.calm_id);
      expect(story.feature_calm_uuid).toBe(link?.featureUuid);
    }
    const transports = await hub.hub.deps.db.selectFrom('hub_calm_transports').selectAll().execute();
    expect(transports.map((t) => t.transport_id).sort()).toEqual(
      mine.transports.map((t) => t.transportId).sort(),
    );
    const codes = await hub.hub.deps.db.selectFrom('hub_calm_code_lists').selectAll().execute();
    expect(codes.map((c) => c.code)).toContain('IN_TESTING');
    // Page size 4: features 6 → 2, stories 18 → 5, assignments (mine) 18 → 5, all references 8 → 2,
    // all transports 8 → 2, plus the two code lists.
    expect(run.counts.calls).toBe(2 + 2 + 5 + 5 + 2 + 2);
    expect(calm.calls - callsBefore, 'calls Cloud ALM saw').toBe(run.counts.calls);
  });

  it('a delta asks only for what changed, and records a status change as a transition', async () => {
    const mine = seedCalmProject(calm, {
      projectId: FAKE_CALM_PROJECT.id,
      tag: 1,
      features: 6,
      storiesPerFeature: 3,
    });
    await sync('full');
    const later = Date.UTC(2026, 10, 20);
    const feature = mine.features[2] as (typeof mine.features)[number];
    Object.assign(feature, { statusCode: 'IN_REALIZATION', modifiedAt: later });
    Object.assign(mine.stories[0] as object, { title: 'Renamed', modifiedAt: later + 1 });
    Object.assign(mine.stories[7] as object, { status: 'CIPUSINPROGRESS', modifiedAt: later + 2 });
    const before = calm.calls;
    const run = await sync('delta');
    expect(run).toMatchObject({ state: 'succeeded', counts: { updated: 3, created: 0, transitions: 2 } });
    // features 1, stories 1, assignments of 1 feature + 2 stories (one chunk, two queries),
    // references of 1 feature, transports changed since (none, one page).
    expect(calm.calls - before).toBe(1 + 1 + 2 + 1 + 1);
    const transitions = await hub.hub.deps.db
      .selectFrom('hub_status_transitions')
      .selectAll()
      .orderBy('changed_at')
      .execute();
    expect(transitions.map((t) => [t.item_kind, t.from_status, t.to_status, t.source])).toEqual([
      ['feature', 'CREATED', 'IN_REALIZATION', 'delta'],
      ['story', 'CIPUSOPEN', 'CIPUSINPROGRESS', 'delta'],
    ]);
    const stories = await rows('hub_calm_stories');
    expect(stories.find((r) => r.calm_id === mine.stories[0]?.id)?.title).toBe('Renamed');
  });

  it('the id sweep marks hard-deleted items obsolete, keeps their rows, and brings them back when they reappear', async () => {
    const mine = seedCalmProject(calm, {
      projectId: FAKE_CALM_PROJECT.id,
      tag: 1,
      features: 3,
      storiesPerFeature: 2,
    });
    await sync('full');
    const gone = calm.tasks.splice(calm.tasks.indexOf(mine.stories[1] as never), 1)[0];
    const run = await sync('sweep');
    expect(run).toMatchObject({ state: 'succeeded', counts: { obsolete: 1 } });
    const stories = await rows('hub_calm_stories');
    expect(stories).toHaveLength(6);
    expect(stories.filter((r) => r.obsolete === 1).map((r) => r.calm_id)).toEqual([gone?.id]);
    calm.tasks.push(gone as never);
    await sync('full');
    expect((await rows('hub_calm_stories')).filter((r) => r.obsolete === 1)).toEqual([]);
  });

  it('the same change seen by two paths is recorded once', async () => {
    const mine = seedCalmProject(calm, {
      projectId: FAKE_CALM_PROJECT.id,
      tag: 1,
      features: 2,
      storiesPerFeature: 1,
    });
    await sync('full');
    const changed = {
      ...(mine.features[0] as (typeof mine.features)[number]),
      statusCode: 'IN_TESTING',
      modifiedAt: Date.UTC(2026, 10, 25),
    };
    const scope = {
      tenantId: (await hub.call('GET', '/api/v1/me', { token: s.admin })).body.tenant.id,
      projectId: s.projectId,
      integrationId: s.integrationId,
    };
    // The webhook path of a later issue writes through the same function.
    const first = await applyFeatures(
      hub.hub.deps.db,
      hub.hub.deps.queue,
      scope,
      [changed],
      'webhook',
      Date.now(),
    );
    expect(first.transitions).toBe(1);
    Object.assign(mine.features[0] as object, changed);
    const run = await sync('delta');
    expect(run.counts.transitions).toBe(0);
    // Both at once: still one.
    const again = { ...changed, statusCode: 'SUCCESSFULLY_TESTED', modifiedAt: Date.UTC(2026, 10, 26) };
    const results = await Promise.all([
      applyFeatures(hub.hub.deps.db, hub.hub.deps.queue, scope, [again], 'webhook', Date.now()),
      applyFeatures(hub.hub.deps.db, hub.hub.deps.queue, scope, [again], 'delta', Date.now()),
    ]);
    expect(results.reduce((n, r) => n + r.transitions, 0)).toBe(1);
    const transitions = await hub.hub.deps.db
      .selectFrom('hub_status_transitions')
      .select(['to_status', 'source'])
      .execute();
    expect(transitions.map((t) => t.to_status).sort()).toEqual(['IN_TESTING', 'SUCCESSFULLY_TESTED']);
  });

  it('Retry-After reschedules the run, which resumes at the page it stopped on and ends as a clean run would', async () => {
    seedCalmProject(calm, { projectId: FAKE_CALM_PROJECT.id, tag: 1, features: 6, storiesPerFeature: 3 });
    const originalClient = calm.client.bind(calm);
    let n = 0;
    calm.client = (secret: string) => {
      const client = originalClient(secret);
      const wrap =
        <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
        async (...args: A) => {
          n++;
          if (n % 3 === 0)
            throw RemoteCallError.fromStatus('cloud_alm', 429, 'Too many requests', Date.now() + 50);
          return fn(...args);
        };
      return {
        ...client,
        features: wrap(client.features),
        tasks: wrap(client.tasks),
        taskAssignments: wrap(client.taskAssignments),
      };
    };
    const run = await sync('full');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 24 } });
    expect(await rows('hub_calm_stories')).toHaveLength(18);
    expect((await rows('hub_calm_stories')).every((r) => r.feature_calm_uuid !== null)).toBe(true);
  });

  it('fails a run when Cloud ALM refuses for good, and says why', async () => {
    calm.failNext = RemoteCallError.fromStatus(
      'cloud_alm',
      403,
      'Cloud ALM answered 403: Missing scope calm-api.features.read',
    );
    const run = await sync('full');
    expect(run).toMatchObject({
      state: 'failed',
      error: 'Cloud ALM answered 403: Missing scope calm-api.features.read',
    });
    const history = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/sync-runs`, {
      token: s.admin,
    });
    expect(history.body.items[0]).toMatchObject({ id: run.id, state: 'failed' });
  });
});
