import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import type { ConsoleAttempt, ConsoleDelivery } from './console.js';
import { eventually, type Receiver, startReceiver } from './test-fixtures/receiver.js';

type Overview = { projects: { id: string; features: { uuid: string; actions: { id: string }[] }[] }[] };

const BASIC = `Basic ${Buffer.from('calm:s3cret!').toString('base64')}`;

describe.each(testEngines)('push engine (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let receiver: Receiver;
  let webhookId: string;
  const failures = new Map<string, number>();

  async function created(response: Response): Promise<Record<string, unknown>> {
    expect(response.status, await response.clone().text()).toBe(201);
    return json(response);
  }

  async function startableFeature(projectId: string, skip: string[] = []): Promise<string> {
    const overview = await json<Overview>(await h.admin('/overview'));
    const feature = overview.projects
      .find((p) => p.id === projectId)
      ?.features.find(
        (f) => f.actions.some((a) => a.id === 'start-implementation') && !skip.includes(f.uuid),
      );
    if (!feature) throw new Error(`no startable feature in ${projectId}`);
    return feature.uuid;
  }

  async function act(uuid: string, action: string): Promise<void> {
    const response = await h.admin(`/features/${uuid}/actions/${action}`, { method: 'POST' });
    expect(response.status, await response.clone().text()).toBe(200);
  }

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
    receiver = await startReceiver((request) => {
      if (request.headers.authorization !== BASIC) return { status: 401, body: { error: 'bad credentials' } };
      // "/flaky" answers 503 twice per resource before accepting.
      const json = request.json as {
        resourceId?: string;
        eventType?: string;
        resource?: { statusCode?: string };
      };
      if (request.url.startsWith('/flaky')) {
        const key = `${json.resourceId}:${json.resource?.statusCode}`;
        const seen = failures.get(key) ?? 0;
        failures.set(key, seen + 1);
        if (seen < 2) return { status: 503, headers: { 'retry-after': '1' }, body: { error: 'busy' } };
      }
      return { status: 200, body: { ok: true } };
    });
    await created(
      await h.admin('/eam/destinations', {
        method: 'POST',
        json: {
          Name: 'FEATURE_RECEIVER',
          Type: 'HTTP',
          URL: receiver.url,
          ProxyType: 'Internet',
          Authentication: 'BasicAuthentication',
          User: 'calm',
          Password: 's3cret!',
        },
      }),
    );
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: {
          name: 'Feature changes',
          destinationName: 'FEATURE_RECEIVER',
          path: '/calm/features',
          destinationType: 'Other',
          externalResourceType: 'Feature',
        },
      }),
    );
    webhookId = webhook.id as string;
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
    await testStore?.cleanup();
  });

  it('never returns destination secrets', async () => {
    const destination = await json(await h.admin('/eam/destinations/FEATURE_RECEIVER'));
    expect(destination).toMatchObject({
      Name: 'FEATURE_RECEIVER',
      User: 'calm',
      Authentication: 'BasicAuthentication',
    });
    expect(destination).not.toHaveProperty('Password');
    expect(JSON.stringify(await json(await h.admin('/eam/destinations')))).not.toContain('s3cret');
  });

  it('delivers a FEATURE change only to projects that opted in', async () => {
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: { name: 'Features to receiver', type: 'EXTERNAL', resourceType: 'FEATURE', webhookId },
      }),
    );
    await created(
      await h.admin(`/projects/${DEMO_PROJECT_ID}/subscriptions`, {
        method: 'POST',
        json: { itemType: 'FEATURE', subscriptionId: subscription.id },
      }),
    );
    const other = await startableFeature(DEMO_SECOND_PROJECT_ID);
    const mine = await startableFeature(DEMO_PROJECT_ID);
    // The other project's change comes first in the stream, so once ours arrives it was dispatched too.
    await act(other, 'start-implementation');
    await act(mine, 'start-implementation');

    const message = await eventually(
      () => receiver.received.find((r) => r.url === '/calm/features'),
      15_000,
      'the push',
    );
    expect(message.method).toBe('POST');
    expect(message.headers['content-type']).toBe('application/json');
    const body = message.json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'subscriptionId',
      'resourceType',
      'eventType',
      'resourceId',
      'resource',
    ]);
    expect(body).toMatchObject({
      subscriptionId: subscription.id,
      resourceType: 'FEATURE',
      eventType: 'FEATURE.UPDATED',
      resourceId: mine,
      resource: { uuid: mine, statusCode: 'IN_REALIZATION', projectId: DEMO_PROJECT_ID },
    });
    expect(receiver.received.filter((r) => r.url === '/calm/features')).toHaveLength(1);
    expect(
      await json<ConsoleDelivery[]>(await h.admin(`/eam/console/deliveries?resourceId=${other}`)),
    ).toEqual([]);
    // The console row commits just after the receiver answered.
    const attempts = await eventually(
      async () => {
        const all = await json<ConsoleAttempt[]>(await h.admin(`/eam/console/attempts?resourceId=${mine}`));
        return all.length === 1 ? all : undefined;
      },
      10_000,
      'the console entry',
    );
    expect(attempts[0]).toMatchObject({
      outcome: 'SUCCESS',
      responseStatus: 200,
      method: 'POST',
      url: `${receiver.url}/calm/features`,
    });
    expect(attempts[0]?.requestHeaders.authorization).toBe('Basic ***');

    // Leaving the opt-in stops the pushes.
    const removed = await h.admin(`/projects/${DEMO_PROJECT_ID}/subscriptions/FEATURE/${subscription.id}`, {
      method: 'DELETE',
    });
    expect(removed.status).toBe(204);
  });

  it('retries 503 with Retry-After, keeps the order per resource and shows every attempt', async () => {
    expect(
      (
        await h.admin('/eam/settings', {
          method: 'PATCH',
          json: { retryScheduleSeconds: [1, 1, 1, 1], retryJitter: 0 },
        })
      ).status,
    ).toBe(200);
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: { name: 'Flaky', destinationName: 'FEATURE_RECEIVER', path: '/flaky' },
      }),
    );
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: { name: 'Flaky features', resourceType: 'FEATURE', webhookId: webhook.id },
      }),
    );
    await created(
      await h.admin(`/projects/${DEMO_PROJECT_ID}/subscriptions`, {
        method: 'POST',
        json: { itemType: 'FEATURE', subscriptionId: subscription.id },
      }),
    );
    const uuid = await startableFeature(DEMO_PROJECT_ID);
    await act(uuid, 'start-implementation');
    await act(uuid, 'handover-to-test');

    const flaky = () => receiver.received.filter((r) => r.url === '/flaky');
    await eventually(() => flaky().length === 6, 20_000, 'six requests');
    const statuses = flaky().map((r) => (r.json as { resource: { statusCode: string } }).resource.statusCode);
    // The second change waits behind the first one's retries, and gets its own two 503s.
    expect(statuses).toEqual([
      'IN_REALIZATION',
      'IN_REALIZATION',
      'IN_REALIZATION',
      'IN_TESTING',
      'IN_TESTING',
      'IN_TESTING',
    ]);
    const ids = flaky().map((r) => r.headers['webhook-id']);
    expect(new Set(ids.slice(0, 3)).size).toBe(1);

    const deliveries = await eventually(
      async () => {
        const all = await json<ConsoleDelivery[]>(
          await h.admin(`/eam/console/deliveries?subscriptionId=${subscription.id}`),
        );
        return all.length === 2 && all.every((d) => d.state === 'SUCCEEDED') && all;
      },
      10_000,
      'both deliveries succeeded',
    );
    const first = deliveries.find(
      (d) => (d.message as { resource: { statusCode: string } }).resource.statusCode === 'IN_REALIZATION',
    );
    const attempts = await json<ConsoleAttempt[]>(
      await h.admin(`/eam/console/attempts?deliveryId=${first?.id}`),
    );
    expect(attempts.map((a) => [a.attempt, a.responseStatus, a.outcome])).toEqual([
      [3, 200, 'SUCCESS'],
      [2, 503, 'HTTP_ERROR'],
      [1, 503, 'HTTP_ERROR'],
    ]);
    expect(attempts[2]?.responseHeaders['retry-after']).toBe('1');

    // Resend from the console: the same message again, with the same webhook-id.
    const resent = await h.admin(`/eam/console/deliveries/${first?.id}/resend`, { method: 'POST' });
    expect(resent.status).toBe(202);
    await eventually(() => flaky().length === 7, 10_000, 'the resend');
    expect(flaky()[6]?.headers['webhook-id']).toBe(ids[0]);
    await eventually(
      async () =>
        (
          await json<ConsoleAttempt[]>(
            await h.admin(`/eam/console/attempts?deliveryId=${first?.id}&outcome=SUCCESS`),
          )
        ).length === 2,
      10_000,
      'the second successful attempt in the console',
    );
  });

  it('does not retry other 4xx and rejects bad input with 4xx', async () => {
    const bad = await h.admin('/eam/destinations', {
      method: 'POST',
      json: { Name: 'x', URL: 'ftp://x', Authentication: 'BasicAuthentication' },
    });
    expect(bad.status).toBe(400);
    const missing = await h.admin('/eam/destinations', {
      method: 'POST',
      json: { Name: 'NOPASS', URL: 'http://127.0.0.1:1', Authentication: 'BasicAuthentication', User: 'u' },
    });
    expect(missing.status).toBe(400);
    expect(
      (
        await h.admin('/eam/subscriptions', {
          method: 'POST',
          json: { name: 'x', resourceType: 'BOGUS', webhookId },
        })
      ).status,
    ).toBe(400);
    expect(
      (await h.admin('/eam/subscriptions', { method: 'POST', json: '[' as unknown as object })).status,
    ).toBe(400);

    await created(
      await h.admin('/eam/destinations', {
        method: 'POST',
        json: {
          Name: 'WRONG_PASSWORD',
          URL: receiver.url,
          Authentication: 'BasicAuthentication',
          User: 'calm',
          Password: 'nope',
        },
      }),
    );
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: { name: 'Wrong', destinationName: 'WRONG_PASSWORD', path: '/calm/features' },
      }),
    );
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: { name: 'Wrong password', resourceType: 'FEATURE', webhookId: webhook.id },
      }),
    );
    await created(
      await h.admin(`/projects/${DEMO_PROJECT_ID}/subscriptions`, {
        method: 'POST',
        json: { itemType: 'FEATURE', subscriptionId: subscription.id },
      }),
    );
    const uuid = await startableFeature(DEMO_PROJECT_ID);
    await act(uuid, 'start-implementation');
    const delivery = await eventually(
      async () => {
        const all = await json<ConsoleDelivery[]>(
          await h.admin(`/eam/console/deliveries?subscriptionId=${subscription.id}`),
        );
        return all[0]?.state === 'FAILED' ? all[0] : undefined;
      },
      10_000,
      'the failed delivery',
    );
    expect(delivery).toMatchObject({ attempts: 1, lastOutcome: 'HTTP_ERROR' });
  });
});
