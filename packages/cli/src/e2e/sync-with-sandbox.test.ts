import { startTestHub, type TestHub } from '@calmhub/hub/testing';
import { testEngines } from '@calmhub/platform/testing';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxAdmin as admin, calmApi, FINANCE } from './helpers.js';

/** Links a fresh hub project to the sandbox's Finance project, over the hub's API. */
async function linkHub(hub: TestHub, sandbox: Sandbox): Promise<string> {
  const token = hub.adminToken;
  const project = await hub.call('POST', '/api/v1/projects', { token, body: { name: 'Finance' } });
  const credential = await hub.call('POST', '/api/v1/credentials', {
    token,
    body: { name: 'Cloud ALM', serviceKey: sandbox.serviceKey },
  });
  const integration = await hub.call('POST', `/api/v1/projects/${project.body.id}/integrations`, {
    token,
    body: { name: 'Cloud ALM', credentialId: credential.body.id, calmProjectId: FINANCE },
  });
  expect(integration.status, integration.text).toBe(201);
  return integration.body.id;
}

async function runSync(hub: TestHub, integrationId: string, mode: 'full' | 'delta' | 'sweep') {
  const started = await hub.call('POST', `/api/v1/integrations/${integrationId}/sync`, {
    token: hub.adminToken,
    body: { mode },
  });
  for (let i = 0; i < 1200; i++) {
    const run = await hub.call('GET', `/api/v1/sync-runs/${started.body.id}`, { token: hub.adminToken });
    if (run.body.state === 'succeeded' || run.body.state === 'failed') return run.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('sync did not finish');
}

/** The hub's copy, in a comparable form. */
async function copyOf(hub: TestHub) {
  const db = hub.hub.deps.db;
  const features = await db
    .selectFrom('hub_calm_features')
    .select(['calm_uuid', 'title', 'status_code', 'obsolete'])
    .orderBy('calm_uuid')
    .execute();
  const stories = await db
    .selectFrom('hub_calm_stories')
    .select(['calm_id', 'title', 'status', 'feature_calm_uuid', 'obsolete'])
    .orderBy('calm_id')
    .execute();
  const links = await db
    .selectFrom('hub_calm_feature_transports')
    .select(['feature_calm_uuid', 'transport_calm_uuid'])
    .orderBy('feature_calm_uuid')
    .orderBy('transport_calm_uuid')
    .execute();
  const transports = await db
    .selectFrom('hub_calm_transports')
    .select(['calm_uuid', 'transport_id', 'status'])
    .orderBy('calm_uuid')
    .execute();
  return { features, stories, links, transports };
}

describe.each(testEngines)('sync against the sandbox Cloud ALM, over HTTP (%s)', (engine) => {
  let sandbox: Sandbox;
  let hub: TestHub;
  let integrationId: string;
  let calm: Awaited<ReturnType<typeof calmApi>>;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
    calm = await calmApi(sandbox);
    hub = await startTestHub({ engine, config: { syncPageSize: 3, syncOverlapMs: 0 } });
    integrationId = await linkHub(hub, sandbox);
  });
  afterAll(async () => {
    await hub?.stop();
    await sandbox?.stop();
  });

  it('brings every feature of the project with exactly its stories and transports, and nothing of the other project', async () => {
    await admin(sandbox, 'DELETE', '/request-log');
    const run = await runSync(hub, integrationId, 'full');
    expect(run.state, run.error).toBe('succeeded');
    // The sandbox counted the calls itself.
    const log = await admin(sandbox, 'GET', '/request-log');
    const apiCalls = Object.entries(log.routes as Record<string, { total: number }>)
      .filter(([route]) => route.includes('/api/calm-'))
      .reduce((n, [, counts]) => n + counts.total, 0);
    expect(apiCalls).toBe(run.counts.calls);
    const features = (await calm('GET', `/calm-features/v1/Features?$filter=projectId eq ${FINANCE}`))
      .value as Array<{ uuid: string }>;
    const stories = (await calm('GET', `/calm-tasks/v1/tasks?projectId=${FINANCE}&type=CALMUS`)) as Array<{
      id: string;
    }>;
    const assignments = (
      await calm('GET', `/calm-features/v1/TaskAssignments?$filter=projectId eq ${FINANCE}`)
    ).value as Array<{ parentUuid: string; taskId: string }>;
    const references = (await calm('GET', '/calm-features/v1/TransportReferences')).value as Array<{
      parentUuid: string;
      transportUuid: string;
    }>;
    const copy = await copyOf(hub);
    expect(copy.features.map((f) => f.calm_uuid)).toEqual(features.map((f) => f.uuid).sort());
    expect(copy.stories.map((s) => s.calm_id)).toEqual(stories.map((s) => s.id).sort());
    for (const story of copy.stories) {
      expect(story.feature_calm_uuid).toBe(
        assignments.find((a) => a.taskId === story.calm_id)?.parentUuid ?? null,
      );
    }
    const ours = new Set(features.map((f) => f.uuid));
    const expectedLinks = references.filter((r) => ours.has(r.parentUuid));
    expect(copy.links).toHaveLength(expectedLinks.length);
    expect(copy.transports.map((t) => t.calm_uuid).sort()).toEqual(
      [...new Set(expectedLinks.map((r) => r.transportUuid))].sort(),
    );
  });

  it('a delta after three changes asks for those three only', async () => {
    await runSync(hub, integrationId, 'full');
    const features = (await calm('GET', `/calm-features/v1/Features?$filter=projectId eq ${FINANCE}`))
      .value as Array<{ uuid: string }>;
    const stories = (await calm('GET', `/calm-tasks/v1/tasks?projectId=${FINANCE}&type=CALMUS`)) as Array<{
      id: string;
    }>;
    await new Promise((r) => setTimeout(r, 5)); // a later millisecond than the watermark
    await calm('PATCH', `/calm-features/v1/Features/${features[0]?.uuid}`, { title: 'Renamed feature' });
    await calm('PATCH', `/calm-tasks/v1/tasks/${stories[0]?.id}`, { title: 'Renamed story one' });
    await calm('PATCH', `/calm-tasks/v1/tasks/${stories[1]?.id}`, { title: 'Renamed story two' });
    await admin(sandbox, 'DELETE', '/request-log');
    const run = await runSync(hub, integrationId, 'delta');
    expect(run).toMatchObject({ state: 'succeeded', counts: { updated: 3, created: 0, unchanged: 0 } });
    const log = await admin(sandbox, 'GET', '/request-log');
    const routes = log.routes as Record<string, { total: number }>;
    // One page each of changed features and tasks, the task assignments of the changed feature
    // and of the changed stories (2), their transport references and the transports changed since.
    expect(routes['GET /api/calm-features/v1/Features']?.total).toBe(1);
    expect(routes['GET /api/calm-tasks/v1/tasks']?.total).toBe(1);
    expect(routes['GET /api/calm-features/v1/TaskAssignments']?.total).toBe(2);
    expect(routes['GET /api/calm-features/v1/TransportReferences']?.total).toBe(1);
    expect(routes['GET /api/calm-features/v1/Transports']?.total).toBe(1);
    const total = Object.entries(routes)
      .filter(([r]) => r.includes('/api/calm-'))
      .reduce((n, [, c]) => n + c.total, 0);
    expect(total).toBe(run.counts.calls);
    const copy = await copyOf(hub);
    expect(copy.features.find((f) => f.calm_uuid === features[0]?.uuid)?.title).toBe('Renamed feature');
  });

  it("shows a story's description as Cloud ALM has it, read when the story is opened, sanitised", async () => {
    const stories = (await calm('GET', `/calm-tasks/v1/tasks?projectId=${FINANCE}&type=CALMUS`)) as Array<{
      id: string;
    }>;
    const calmId = stories[0]?.id as string;
    await calm('PATCH', `/calm-tasks/v1/tasks/${calmId}`, {
      description:
        '<p>Posting periods <b>per company code</b></p><script>alert(1)</script><img src=x onerror=alert(2)>',
    });
    await runSync(hub, integrationId, 'delta');
    const row = await hub.hub.deps.db
      .selectFrom('hub_calm_stories')
      .select(['id', 'description'])
      .where('calm_id', '=', calmId)
      .executeTakeFirstOrThrow();
    expect(row.description).toBeNull();
    const story = await hub.call('GET', `/api/v1/stories/${row.id}`, { token: hub.adminToken });
    expect(story.status, story.text).toBe(200);
    expect(story.body.descriptionHtml).toContain('<b>per company code</b>');
    expect(story.body.descriptionHtml).not.toMatch(/script|onerror/);
  });

  it('marks a story hard-deleted in Cloud ALM obsolete on the next sweep', async () => {
    const stories = (await calm('GET', `/calm-tasks/v1/tasks?projectId=${FINANCE}&type=CALMUS`)) as Array<{
      id: string;
    }>;
    const victim = stories.at(-1)?.id as string;
    await calm('DELETE', `/calm-tasks/v1/tasks/${victim}`);
    const run = await runSync(hub, integrationId, 'sweep');
    expect(run).toMatchObject({ state: 'succeeded', counts: { obsolete: 1 } });
    const copy = await copyOf(hub);
    expect(copy.stories.filter((s) => s.obsolete === 1).map((s) => s.calm_id)).toEqual([victim]);
  });

  it('ends identical to a clean run with 20 % of the calls answering 429 or 503 with Retry-After', async () => {
    const clean = await copyOf(hub);
    const throttled = await startTestHub({ engine, config: { syncPageSize: 3, syncOverlapMs: 0 } });
    try {
      const id = await linkHub(throttled, sandbox);
      await admin(sandbox, 'PUT', '/faults', [
        { path: '/api/calm-*', kind: 'status', status: 429, rate: 0.1, retryAfterSeconds: 1 },
        { path: '/api/calm-*', kind: 'status', status: 503, rate: 0.1, retryAfterSeconds: 1 },
      ]);
      const run = await runSync(throttled, id, 'full');
      const { rules } = await admin<{ rules: Array<{ fired: number }> }>(sandbox, 'GET', '/faults');
      await admin(sandbox, 'PUT', '/faults', []);
      expect(run.state, run.error).toBe('succeeded');
      expect(rules.reduce((n, r) => n + r.fired, 0)).toBeGreaterThan(2);
      const copy = await copyOf(throttled);
      expect(copy.features).toEqual(clean.features);
      expect(copy.stories.filter((s) => s.obsolete === 0)).toEqual(
        clean.stories.filter((s) => s.obsolete === 0),
      );
      expect(copy.links).toEqual(clean.links);
      expect(copy.transports).toEqual(clean.transports);
    } finally {
      await admin(sandbox, 'PUT', '/faults', []);
      await throttled.stop();
    }
  }, 120_000);

  it('with no webhook, the reconcile records a feature status change within one period', async () => {
    const reconciling = await startTestHub({
      engine,
      config: { syncDeltaIntervalMs: 1000, syncOverlapMs: 0 },
    });
    try {
      const id = await linkHub(reconciling, sandbox);
      const db = reconciling.hub.deps.db;
      // The first tick brings the project (a full sync), then deltas follow every second.
      for (
        let i = 0;
        i < 100 &&
        (
          await db
            .selectFrom('hub_sync_state')
            .select('last_full_at')
            .where('integration_id', '=', id)
            .executeTakeFirst()
        )?.last_full_at == null;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const feature = (await db
        .selectFrom('hub_calm_features')
        .selectAll()
        .where('integration_id', '=', id)
        .where('status_code', '=', 'CREATED')
        .executeTakeFirst()) as { calm_uuid: string; id: string };
      expect(feature).toBeDefined();
      await calm('PATCH', `/calm-features/v1/Features/${feature.calm_uuid}`, {
        statusCode: 'IN_REALIZATION',
      });
      const changedAt = Date.now();
      let transition: { to_status: string; source: string; recorded_at: number } | undefined;
      for (let i = 0; i < 60 && !transition; i++) {
        await new Promise((r) => setTimeout(r, 100));
        transition = await db
          .selectFrom('hub_status_transitions')
          .selectAll()
          .where('item_id', '=', feature.id)
          .executeTakeFirst();
      }
      expect(transition).toMatchObject({ to_status: 'IN_REALIZATION', source: 'delta' });
      // One period (1 s) plus the time the delta itself takes.
      expect((transition?.recorded_at ?? 0) - changedAt).toBeLessThan(2000 + 1000);
    } finally {
      await reconciling.stop();
    }
  }, 60_000);
});
