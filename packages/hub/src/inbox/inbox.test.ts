import { testEngines } from '@calmhub/platform/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { type SeededCalmProject, seedCalmProject } from '../testing/calm-project.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import {
  FAKE_CALM_PROJECT,
  FAKE_SECRET,
  givenScenario,
  type Scenario,
  seedFakeCalm,
} from '../testing/scenario.js';
import { startTestHub, type TestHub, waitForIdle } from '../testing/test-hub.js';

describe.each(testEngines)('webhook inbox and status actions (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let calm: FakeCloudAlm;
  let seeded: SeededCalmProject;
  let path: string;
  let secretKey: string;

  beforeEach(async () => {
    calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    seeded = seedCalmProject(calm, {
      projectId: FAKE_CALM_PROJECT.id,
      tag: 1,
      features: 2,
      storiesPerFeature: 2,
    });
    hub = await startTestHub({
      engine,
      connectors: fakeConnectors(calm),
      config: { logLevel: 'trace', publicUrl: 'http://calmhub.invalid' },
    });
    s = await givenScenario(hub);
    await waitForIdle(hub);
    const webhook = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/webhook`, {
      token: s.admin,
    });
    path = `/${webhook.body.path}`;
    secretKey = webhook.body.secretKey;
  });
  afterEach(async () => {
    await hub?.stop();
  });

  const deliver = (
    body: unknown,
    options: { path?: string; headers?: Record<string, string>; raw?: string } = {},
  ) =>
    hub.call('POST', options.path ?? path, {
      ...(options.raw === undefined ? { body } : { rawBody: options.raw }),
      ...(options.headers ? { headers: options.headers } : {}),
    });
  const featureEvent = (uuid: string, extra: Record<string, unknown> = {}) => ({
    subscriptionId: '5b742b3e-36c9-467e-8b37-1c1e633da489',
    resourceType: 'FEATURE',
    eventType: 'FEATURE.UPDATED',
    resourceId: uuid,
    ...extra,
  });
  const moveFeature = (index: number, status: string, at: number) => {
    const feature = seeded.features[index] as (typeof seeded.features)[number];
    Object.assign(feature, { statusCode: status, modifiedAt: at });
    return feature;
  };

  it('answers every wrong tenant, project, integration or key with the same 404, and never logs the key', async () => {
    const bodies: string[] = [];
    const [, , , , tenant, , project, , , integration] = path.split('/');
    const wrong = [
      path.replace(`secretKey=${secretKey}`, 'secretKey=wrong'),
      path.replace(`secretKey=${encodeURIComponent(secretKey)}`, ''),
      path.replace(tenant as string, '00000000-0000-4000-8000-000000000000'),
      path.replace(project as string, '00000000-0000-4000-8000-000000000000'),
      path.replace(integration as string, '00000000-0000-4000-8000-000000000000'),
      path.replace(integration as string, 'not-a-uuid'),
    ];
    for (const p of wrong) {
      const answer = await deliver(featureEvent(seeded.features[0]?.uuid as string), { path: p });
      expect(answer.status, p).toBe(404);
      bodies.push(JSON.stringify({ ...answer.body.error, requestId: undefined }));
    }
    expect(new Set(bodies).size).toBe(1);
    expect((await deliver(featureEvent(seeded.features[0]?.uuid as string))).status).toBe(202);
    expect(hub.logLines.length).toBeGreaterThan(10);
    for (const line of hub.logLines) expect(line).not.toContain(secretKey);
  });

  it('stores, then reads the feature from Cloud ALM and records the transition once, however often it comes', async () => {
    const feature = moveFeature(0, 'IN_REALIZATION', Date.UTC(2026, 10, 20));
    const event = featureEvent(feature.uuid, {
      resource: { uuid: feature.uuid, modifiedAt: '2026-11-20T00:00:00.000Z' },
    });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await deliver(event));
    expect(answers.map((a) => a.body.outcome)).toEqual([
      'accepted',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    await waitForIdle(hub);
    const inbox = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/inbox?state=processed`, {
      token: s.admin,
    });
    const delivery = inbox.body.items.find((d: { resourceId: string }) => d.resourceId === feature.uuid);
    expect(delivery).toMatchObject({ duplicates: 4, reason: 'Status change recorded', itemKind: 'feature' });
    const transitions = await hub.hub.deps.db.selectFrom('hub_status_transitions').selectAll().execute();
    expect(transitions.map((t) => [t.to_status, t.source])).toEqual([['IN_REALIZATION', 'webhook']]);
    // The delta that sees the same change later records nothing new.
    const run = await hub.call('POST', `/api/v1/integrations/${s.integrationId}/sync`, {
      token: s.admin,
      body: { mode: 'delta' },
    });
    await waitForIdle(hub);
    const after = await hub.call('GET', `/api/v1/sync-runs/${run.body.id}`, { token: s.admin });
    expect(after.body.counts.transitions).toBe(0);
  });

  it('answers resends arriving together as duplicates of one stored delivery, visible at once', async () => {
    const feature = moveFeature(0, 'IN_REALIZATION', Date.UTC(2026, 10, 20));
    const event = featureEvent(feature.uuid);
    const headers = { 'webhook-id': 'msg_resent_together' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => deliver(event, { headers })));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const accepted = answers.filter((a) => a.body.outcome === 'accepted');
    expect(accepted).toHaveLength(1);
    const id = accepted[0]?.body.id as string;
    expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([id]));
    // Readable as soon as it is acknowledged, whatever processing has done with it yet.
    const stored = await hub.call('GET', `/api/v1/inbox/${id}`, { token: s.admin });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ id, duplicates: 5, resourceId: feature.uuid });
    await waitForIdle(hub);
    const late = await deliver(event, { headers });
    expect(late.body).toEqual({ id, outcome: 'duplicate' });
    const after = await hub.call('GET', `/api/v1/inbox/${id}`, { token: s.admin });
    expect(after.body).toMatchObject({ state: 'processed', duplicates: 6 });
  });

  it('settles a burst about one feature with a few reads, each delivery processed and audited once', async () => {
    // Cloud ALM's copy is older than every event, so no event is skipped as already known: each
    // needs a read unless another delivery's read covers it.
    const feature = moveFeature(1, 'IN_TESTING', Date.UTC(2026, 10, 20));
    const sent = Array.from({ length: 40 }, (_, i) =>
      featureEvent(feature.uuid, {
        resource: { uuid: feature.uuid, modifiedAt: new Date(Date.UTC(2026, 10, 21) + i).toISOString() },
      }),
    );
    const answers = await Promise.all(sent.map((event) => deliver(event)));
    expect(answers.map((a) => a.status)).toEqual(sent.map(() => 202));
    await waitForIdle(hub);
    const ids = answers.map((a) => a.body.id as string);
    const rows = await hub.hub.deps.db
      .selectFrom('hub_webhook_inbox')
      .select(['id', 'state', 'reason'])
      .where('id', 'in', ids)
      .execute();
    expect(rows.map((r) => r.state)).toEqual(ids.map(() => 'processed'));
    // A delivery that needed a read of the feature is described; the others name the read that covered them.
    const readers = rows.filter((r) => !r.reason?.startsWith('Covered by the read for delivery '));
    const covering = new Set(rows.map((r) => r.reason?.replace('Covered by the read for delivery ', '')));
    expect(readers.length).toBeLessThan(ids.length / 2);
    for (const id of covering) if (id?.length === 36) expect(readers.map((r) => r.id)).toContain(id);
    const audited = await hub.hub.deps.db
      .selectFrom('hub_audit_log')
      .select('object_id')
      .where('kind', '=', 'webhook.processed')
      .where('object_id', 'in', ids)
      .execute();
    expect(audited.map((a) => a.object_id).sort()).toEqual([...ids].sort());
    const transitions = await hub.hub.deps.db.selectFrom('hub_status_transitions').selectAll().execute();
    expect(transitions.map((t) => t.to_status)).toEqual(['IN_TESTING']);
  });

  it('understands other casings and names, and stores what it cannot understand as ignored with the reason', async () => {
    const feature = moveFeature(1, 'IN_REALIZATION', Date.UTC(2026, 10, 21));
    const variants = [
      { resourceType: 'Feature', eventType: 'FEATURE.STATUS_CHANGED', resource: { id: feature.uuid } },
      { eventType: 'feature.updated', resourceId: feature.uuid.toUpperCase() },
    ];
    for (const v of variants) expect((await deliver(v)).status).toBe(202);
    expect((await deliver({ hello: 'world' })).status).toBe(202);
    expect((await deliver({ resourceType: 'FEATURE', eventType: 'FEATURE.UPDATED' })).status).toBe(202);
    expect((await deliver(null, { raw: '{"resourceType":' })).status).toBe(400);
    expect((await deliver(null, { raw: 'x'.repeat(1024 * 1024 + 10) })).status).toBe(413);
    await waitForIdle(hub);
    const inbox = (await hub.call('GET', `/api/v1/integrations/${s.integrationId}/inbox`, { token: s.admin }))
      .body.items;
    const ignored = inbox
      .filter((d: { state: string }) => d.state === 'ignored')
      .map((d: { reason: string }) => d.reason);
    expect(ignored).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Not a feature or task event/),
        'The event names no resource (no resourceId, resource.uuid or resource.id)',
      ]),
    );
    const transitions = await hub.hub.deps.db
      .selectFrom('hub_status_transitions')
      .selectAll()
      .where('calm_id', '=', feature.uuid)
      .execute();
    expect(transitions).toHaveLength(1);
  });

  it("Handover to Test requests promotion of the feature's stories to the test stage, once", async () => {
    const feature = moveFeature(0, 'IN_TESTING', Date.UTC(2026, 10, 22));
    await deliver(featureEvent(feature.uuid));
    await waitForIdle(hub);
    const requests = await hub.hub.deps.db.selectFrom('hub_promotion_requests').selectAll().execute();
    const stories = seeded.stories.filter((t) =>
      calm.assignments.some((a) => a.taskId === t.id && a.featureUuid === feature.uuid),
    );
    expect(requests).toHaveLength(stories.length);
    expect(
      requests.every((r) => r.target_stage === 'test' && r.requested_by === `integration:${s.integrationId}`),
    ).toBe(true);
    // No pipeline here: each request is cancelled, and the comment saying why is on its way.
    expect(requests.every((r) => r.state === 'cancelled')).toBe(true);
    const writes = await hub.hub.deps.db
      .selectFrom('hub_writebacks')
      .selectAll()
      .where('action', '=', 'promotion.requested')
      .execute();
    expect(writes.filter((w) => w.target_kind === 'story_comment')).toHaveLength(stories.length);
    // Replaying the delivery changes nothing.
    const delivery = (
      await hub.call('GET', `/api/v1/integrations/${s.integrationId}/inbox`, { token: s.admin })
    ).body.items[0];
    await hub.call('POST', `/api/v1/inbox/${delivery.id}/replay`, { token: s.admin });
    await waitForIdle(hub);
    expect(await hub.hub.deps.db.selectFrom('hub_promotion_requests').selectAll().execute()).toHaveLength(
      stories.length,
    );
  });

  it('Start Implementation checks the transports of each story and records what is missing', async () => {
    const feature = moveFeature(1, 'IN_REALIZATION', Date.UTC(2026, 10, 23));
    await deliver(featureEvent(feature.uuid));
    await waitForIdle(hub);
    const guards = await hub.hub.deps.db.selectFrom('hub_story_guards').selectAll().execute();
    expect(guards).toHaveLength(2);
    expect(guards.every((g) => g.passed === 0 && g.missing.includes('no_transport'))).toBe(true);
    const failed = await hub.hub.deps.db
      .selectFrom('hub_writebacks')
      .selectAll()
      .where('action', '=', 'guard.failed')
      .execute();
    expect(failed.filter((w) => w.target_kind === 'story_comment').map((w) => w.text)).toEqual([
      'calmhub: Start Implementation check failed: no transport is attached.',
      'calmhub: Start Implementation check failed: no transport is attached.',
    ]);
  });

  it('proves routing and key with a self-test and shows the setup checklist', async () => {
    const checklist = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/webhook/checklist`, {
      token: s.admin,
    });
    expect(checklist.body.steps.map((step: { step: string }) => step.step)).toEqual([
      'destination',
      'webhook',
      'subscription',
      'project',
    ]);
    expect(checklist.body.steps[1].value.startsWith('ratesaptms/')).toBe(true);
    // The scenario's delivery already counts as the first real event.
    expect(checklist.body.status.state).toBe('receiving');
  });

  it('requires Basic as well when the integration asks for it', async () => {
    await hub.call('PUT', `/api/v1/integrations/${s.integrationId}/webhook/basic-auth`, {
      token: s.admin,
      body: { user: 'btp', password: 'destination-secret' },
    });
    const event = featureEvent(seeded.features[0]?.uuid as string, { eventType: 'FEATURE.CREATED' });
    expect((await deliver(event)).status).toBe(404);
    const basic = `Basic ${Buffer.from('btp:destination-secret').toString('base64')}`;
    expect((await deliver(event, { headers: { authorization: basic } })).status).toBe(202);
  });
});
