import { startTestHub, type TestHub, waitForIdle } from '@calmhub/hub/testing';
import { testEngines } from '@calmhub/platform/testing';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calmApi, FINANCE, pushFeaturesTo, sandboxAdmin, until } from './helpers.js';

/**
 * The seed's story end to end: a sandbox whose External API Management is set up as the seed's
 * "Webhook Configuration" describes (destination → webhook with the path → FEATURE subscription →
 * project opt-in) pushes lifecycle changes to the hub; the hub acts and writes back.
 */
describe.each(testEngines)('Cloud ALM webhooks into the hub, end to end (%s)', (engine) => {
  let sandbox: Sandbox;
  let hub: TestHub;
  let token: string;
  let integrationId: string;
  let subscriptionId: string;
  let calm: Awaited<ReturnType<typeof calmApi>>;
  const admin = (method: string, path: string, body?: unknown) => sandboxAdmin(sandbox, method, path, body);
  const api = async (method: string, path: string, body?: unknown) => {
    const answer = await hub.call(method, path, { token, body });
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.body;
  };
  const commentsOf = async (taskId: string) =>
    (
      (await calm('GET', `/calm-tasks/v1/tasks/${taskId}/comments`)) as unknown as Array<{ text: string }>
    ).filter((c) => c.text.includes('[calmhub:'));
  const featureByTitle = async (title: string) => {
    const features = (await calm('GET', `/calm-features/v1/Features?$filter=projectId eq ${FINANCE}`))
      .value as Array<{ uuid: string; title: string }>;
    return features.find((f) => f.title === title) as { uuid: string; title: string };
  };
  const storiesOf = async (featureUuid: string) =>
    await hub.hub.deps.db
      .selectFrom('hub_calm_stories')
      .select(['id', 'calm_id', 'title'])
      .where('feature_calm_uuid', '=', featureUuid)
      .execute();

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
    const key = sandbox.serviceKey;
    calm = await calmApi(sandbox);

    hub = await startTestHub({ engine, config: { syncDeltaIntervalMs: 2000 } });
    token = hub.adminToken;
    const project = await api('POST', '/api/v1/projects', { name: 'Finance' });
    const credential = await api('POST', '/api/v1/credentials', { name: 'Cloud ALM', serviceKey: key });
    const integration = await api('POST', `/api/v1/projects/${project.id}/integrations`, {
      name: 'Cloud ALM',
      credentialId: credential.id,
      calmProjectId: FINANCE,
    });
    integrationId = integration.id;
    await api('POST', `/api/v1/integrations/${integrationId}/sync`, { mode: 'full' });
    await until(
      'the first sync',
      async () =>
        (await api('GET', `/api/v1/integrations/${integrationId}/sync-runs`)).items[0]?.state === 'succeeded',
    );

    // Webhook Configuration, as the seed describes it (the sandbox's admin API is test set-up only).
    const webhook = await api('GET', `/api/v1/integrations/${integrationId}/webhook`);
    subscriptionId = await pushFeaturesTo(sandbox, hub.url, webhook.path);
  });
  afterAll(async () => {
    await hub?.stop();
    await sandbox?.stop();
  });

  it("Start Implementation without released transports writes the guard's comment on each story, once", async () => {
    const status = await api('GET', `/api/v1/integrations/${integrationId}/webhook/status`);
    expect(status.state).toBe('waiting_for_first_event');
    const feature = await featureByTitle('Dunning by e-mail');
    await admin('POST', `/features/${feature.uuid}/actions/start-implementation`);
    const stories = await storiesOf(feature.uuid);
    expect(stories.length).toBeGreaterThan(0);
    for (const story of stories) {
      const comments = await until('the guard comment', async () => {
        const found = await commentsOf(story.calm_id);
        return found.some((c) => c.text.includes('Start Implementation check failed')) && found;
      });
      expect(comments.filter((c) => c.text.includes('no transport is attached'))).toHaveLength(1);
    }
    const inbox = await api('GET', `/api/v1/integrations/${integrationId}/inbox?state=processed`);
    expect(inbox.items.length).toBeGreaterThan(0);
    expect((await api('GET', `/api/v1/integrations/${integrationId}/webhook/status`)).state).toBe(
      'receiving',
    );
  });

  it('after attaching and releasing, Handover to Test requests promotion with a comment, each once; redelivery changes nothing', async () => {
    const feature = await featureByTitle('Dunning by e-mail');
    const [story] = await storiesOf(feature.uuid);
    if (!story) throw new Error('no story');
    const transport = await admin('POST', '/transports', {
      transportId: 'S4DK900777',
      description: 'Dunning output',
      sourceSystem: 'S4D',
      targetSystem: 'S4Q',
      objects: [{ type: 'PROG', name: 'ZFI_DUNNING_OUTPUT' }],
    });
    await admin('POST', `/features/${feature.uuid}/transports`, { transportUuid: transport.uuid });
    await api('POST', `/api/v1/stories/${story.id}/components`, { abapTransport: { number: 'S4DK900777' } });
    await admin('POST', `/transports/${transport.uuid}/release`);
    await admin('POST', `/features/${feature.uuid}/actions/handover-to-test`);
    const requests = await until('the promotion request', async () => {
      const rows = await hub.hub.deps.db
        .selectFrom('hub_promotion_requests')
        .selectAll()
        .where('story_id', '=', story.id)
        .execute();
      return rows.length > 0 && rows;
    });
    expect(requests).toMatchObject([
      // The project has no pipeline here: the request is consumed and cancelled with its reason.
      { target_stage: 'test', requested_by: `integration:${integrationId}` },
    ]);
    await until('the comment', async () =>
      (await commentsOf(story.calm_id)).some((c) => c.text.includes('promotion into test not started')),
    );

    // The push engine's resend and a hand-made copy: one effect.
    const deliveries = (await admin('GET', '/eam/console/deliveries')) as unknown as
      | Array<{ id: string; resourceId: string }>
      | { items: Array<{ id: string; resourceId: string }> };
    const list = Array.isArray(deliveries) ? deliveries : deliveries.items;
    const last = list.filter((d) => d.resourceId === feature.uuid).at(-1) ?? list.at(-1);
    if (last) await admin('POST', `/eam/console/deliveries/${last.id}/resend`);
    await new Promise((r) => setTimeout(r, 1500));
    await waitForIdle(hub);
    expect(
      await hub.hub.deps.db
        .selectFrom('hub_promotion_requests')
        .selectAll()
        .where('story_id', '=', story.id)
        .execute(),
    ).toHaveLength(1);

    // Every comment the hub wrote is there exactly once.
    const comments = await commentsOf(story.calm_id);
    const markers = comments.flatMap((c) => c.text.match(/\[calmhub:[0-9a-f]+\]/g) ?? []);
    expect(new Set(markers).size).toBe(markers.length);
    expect(comments.some((c) => c.text.includes('attached'))).toBe(true);

    // The audit log lists every step.
    const audit = await api('GET', '/api/v1/audit?limit=500');
    const kinds = new Set((audit.items as Array<{ kind: string }>).map((e) => e.kind));
    for (const kind of [
      'integration.created',
      'sync.finished',
      'webhook.processed',
      'action.guard_failed',
      'component.attached',
      'promotion.requested',
      'writeback.written',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('with the subscription deleted, Handover to Test still creates the promotion requests within one reconcile period', async () => {
    await admin('DELETE', `/eam/subscriptions/${subscriptionId}`);
    const feature = await featureByTitle('Close periods');
    const stories = await storiesOf(feature.uuid);
    const before = (await api('GET', `/api/v1/integrations/${integrationId}/inbox`)).items.length;
    await admin('POST', `/features/${feature.uuid}/actions/handover-to-test`);
    const rows = await until(
      'the promotion requests',
      async () => {
        const found = await hub.hub.deps.db
          .selectFrom('hub_promotion_requests')
          .selectAll()
          .where(
            'story_id',
            'in',
            stories.map((s) => s.id),
          )
          .execute();
        return found.length === stories.length && found;
      },
      15_000,
    );
    expect(rows).toHaveLength(stories.length);
    const transition = await hub.hub.deps.db
      .selectFrom('hub_status_transitions')
      .selectAll()
      .where('calm_id', '=', feature.uuid)
      .where('to_status', '=', 'IN_TESTING')
      .executeTakeFirstOrThrow();
    expect(transition.source).toBe('delta');
    expect((await api('GET', `/api/v1/integrations/${integrationId}/inbox`)).items.length).toBe(before);
  });
});
