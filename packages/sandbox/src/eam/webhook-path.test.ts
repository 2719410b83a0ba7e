import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { eventually, type Receiver, startReceiver } from './test-fixtures/receiver.js';
import { webhookUrl } from './webhooks.js';

// As SAP's ReleaseOwl guide writes the webhook path: no leading slash, a secret in the query.
const GUIDE_PATH = 'ratesaptms/webhook/tenant/t1/project/p1/calm/pmsint/i1/sync?secretKey=abc';

describe('webhookUrl', () => {
  it('joins a path without a leading slash with exactly one slash', () => {
    expect(webhookUrl('https://ro.example/base', GUIDE_PATH)).toBe(`https://ro.example/base/${GUIDE_PATH}`);
    expect(webhookUrl('https://ro.example/base/', GUIDE_PATH)).toBe(`https://ro.example/base/${GUIDE_PATH}`);
    expect(webhookUrl('https://ro.example//', 'hook')).toBe('https://ro.example/hook');
  });

  it('concatenates paths with a leading slash, empty paths and operation paths as before', () => {
    expect(webhookUrl('https://x.example/api', '/now/table/incident', '/abc')).toBe(
      'https://x.example/api/now/table/incident/abc',
    );
    expect(webhookUrl('https://x.example/wf', '', '/?environmentId=e1')).toBe(
      'https://x.example/wf/?environmentId=e1',
    );
    expect(webhookUrl('https://x.example/wf', null, '')).toBe('https://x.example/wf');
  });

  it('keeps the webhook query string after an operation path', () => {
    expect(webhookUrl('https://ro.example', 'sync?secretKey=abc', '/42')).toBe(
      'https://ro.example/sync/42?secretKey=abc',
    );
    expect(webhookUrl('https://ro.example', '/sync?secretKey=abc', '/42?full=true')).toBe(
      'https://ro.example/sync/42?secretKey=abc&full=true',
    );
  });
});

describe.each(testEngines)('webhook paths as SAP guides write them (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let receiver: Receiver;

  async function created(response: Response): Promise<Record<string, unknown>> {
    expect(response.status, await response.clone().text()).toBe(201);
    return json(response);
  }

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
    receiver = await startReceiver(() => ({ status: 200, body: { ok: true } }));
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
    await testStore?.cleanup();
  });

  it('delivers to <destination URL>/<path>, with or without a trailing slash on the URL', async () => {
    for (const [name, url] of [
      ['RO_PLAIN', `${receiver.url}/plain`],
      ['RO_SLASH', `${receiver.url}/slash/`],
    ]) {
      await created(
        await h.admin('/eam/destinations', {
          method: 'POST',
          json: {
            Name: name,
            Type: 'HTTP',
            URL: url,
            ProxyType: 'Internet',
            Authentication: 'NoAuthentication',
          },
        }),
      );
      const webhook = await created(
        await h.admin('/eam/webhooks', {
          method: 'POST',
          json: {
            name: `ReleaseOwl ${name}`,
            destinationName: name,
            path: GUIDE_PATH,
            destinationType: 'Other',
          },
        }),
      );
      expect(webhook.path).toBe(GUIDE_PATH);
      const subscription = await created(
        await h.admin('/eam/subscriptions', {
          method: 'POST',
          json: {
            name: `Features ${name}`,
            type: 'EXTERNAL',
            resourceType: 'FEATURE',
            webhookId: webhook.id,
          },
        }),
      );
      await created(
        await h.admin(`/projects/${DEMO_PROJECT_ID}/subscriptions`, {
          method: 'POST',
          json: { itemType: 'FEATURE', subscriptionId: subscription.id },
        }),
      );
    }

    const overview = await json<{
      projects: { id: string; features: { uuid: string; actions: { id: string }[] }[] }[];
    }>(await h.admin(`/overview?projectId=${DEMO_PROJECT_ID}`));
    const feature = overview.projects[0]?.features.find((f) =>
      f.actions.some((a) => a.id === 'start-implementation'),
    );
    expect(feature).toBeDefined();
    const acted = await h.admin(`/features/${feature?.uuid}/actions/start-implementation`, {
      method: 'POST',
    });
    expect(acted.status, await acted.clone().text()).toBe(200);

    const urls = await eventually(
      () => {
        const seen = receiver.received.map((r) => r.url).sort();
        return seen.length >= 2 ? seen : undefined;
      },
      15_000,
      'both pushes',
    );
    expect(urls).toEqual([`/plain/${GUIDE_PATH}`, `/slash/${GUIDE_PATH}`]);
    for (const message of receiver.received) {
      expect(message.method).toBe('POST');
      expect(message.json).toMatchObject({ resourceType: 'FEATURE', resourceId: feature?.uuid });
    }
  });

  it('still refuses paths that are not paths', async () => {
    for (const path of ['https://elsewhere.example/hook', 'has space']) {
      const response = await h.admin('/eam/webhooks', {
        method: 'POST',
        json: { name: `bad ${path}`, destinationName: 'RO_PLAIN', path },
      });
      expect(response.status).toBe(400);
    }
  });
});
