import { testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import {
  FAKE_CALM_PROJECT,
  FAKE_SECRET,
  givenScenario,
  type Scenario,
  seedFakeCalm,
} from '../testing/scenario.js';
import { startTestHub, type TestHub } from '../testing/test-hub.js';

describe.each(testEngines)('ALM integrations (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let calm: FakeCloudAlm;

  beforeAll(async () => {
    calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({
      engine,
      connectors: fakeConnectors(calm),
      config: { publicUrl: 'https://hub.example.com/' },
    });
    s = await givenScenario(hub);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it("builds the webhook URL in the seed's form on the public base URL", async () => {
    const integration = await hub.call('GET', `/api/v1/integrations/${s.integrationId}`, { token: s.admin });
    const me = await hub.call('GET', '/api/v1/me', { token: s.admin });
    const { webhook } = integration.body;
    expect(webhook.url).toBe(
      `https://hub.example.com/ratesaptms/webhook/tenant/${me.body.tenant.id}/project/${s.projectId}/calm/pmsint/${s.integrationId}/sync?secretKey=${webhook.secretKey}`,
    );
    expect(webhook.path.startsWith('ratesaptms/')).toBe(true);
  });

  it('shows the webhook key to project admins only', async () => {
    const asDeveloper = await hub.call('GET', `/api/v1/integrations/${s.integrationId}`, {
      token: s.developer.token,
    });
    expect(asDeveloper.status).toBe(200);
    expect(asDeveloper.body.webhook).toBeNull();
    const list = await hub.call('GET', `/api/v1/projects/${s.projectId}/integrations`, {
      token: s.developer.token,
    });
    expect(list.text).not.toContain('secretKey');
    const key = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/webhook`, {
      token: s.developer.token,
    });
    expect(key.status).toBe(403);
    expect(key.body.error.message).toContain('integrations.read_secret');
  });

  it('rotates the webhook key', async () => {
    const before = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/webhook`, {
      token: s.admin,
    });
    const rotated = await hub.call('POST', `/api/v1/integrations/${s.integrationId}/webhook/rotate`, {
      token: s.admin,
    });
    expect(rotated.body.secretKey).not.toBe(before.body.secretKey);
    expect(rotated.body.rotatedAt).not.toBeNull();
    const after = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/webhook`, {
      token: s.admin,
    });
    expect(after.body.secretKey).toBe(rotated.body.secretKey);
  });

  it('validates: host URL default, unknown Cloud ALM project, credential of another project, names per project', async () => {
    const other = await hub.call('POST', '/api/v1/projects', { token: s.admin, body: { name: 'Other' } });
    const noApi = await hub.call('POST', '/api/v1/credentials', {
      token: s.admin,
      body: { name: 'No API URL', clientId: 'x', clientSecret: FAKE_SECRET, url: 'https://x.example' },
    });
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ credentialId: noApi.body.id }, 400, /^hostUrl is required/],
      [{ calmProjectId: 'does-not-exist' }, 400, /^calmProjectId names no Cloud ALM project/],
      // The first project's private credential is not usable in another project.
      [{ credentialId: s.projectCredentialId }, 400, /^credentialId names no credential/],
    ];
    for (const [override, status, message] of cases) {
      const response = await hub.call('POST', `/api/v1/projects/${other.body.id}/integrations`, {
        token: s.admin,
        body: {
          name: 'Cloud ALM',
          credentialId: s.globalCredentialId,
          calmProjectId: FAKE_CALM_PROJECT.id,
          ...override,
        },
      });
      expect(response.status, response.text).toBe(status);
      expect(response.body.error.message).toMatch(message);
    }
    const sameName = await hub.call('POST', `/api/v1/projects/${other.body.id}/integrations`, {
      token: s.admin,
      body: { name: 'Cloud ALM', credentialId: s.globalCredentialId, calmProjectId: FAKE_CALM_PROJECT.id },
    });
    expect(sameName.status, 'the same name in another project is fine').toBe(201);
  });

  it('edits an integration: disabling keeps the link, a new Cloud ALM project is checked live', async () => {
    const disabled = await hub.call('PATCH', `/api/v1/integrations/${s.integrationId}`, {
      token: s.admin,
      body: { enabled: false },
    });
    expect(disabled.body.enabled).toBe(false);
    const moved = await hub.call('PATCH', `/api/v1/integrations/${s.integrationId}`, {
      token: s.admin,
      body: { calmProjectId: 'gone' },
    });
    expect(moved.status).toBe(400);
    calm.addProject({ id: 'second-project', name: 'Second', status: 'O' });
    const relinked = await hub.call('PATCH', `/api/v1/integrations/${s.integrationId}`, {
      token: s.admin,
      body: { calmProjectId: 'second-project' },
    });
    expect(relinked.body.calmProject).toEqual({ id: 'second-project', name: 'Second' });
  });

  it('serves the project picker from the live list', async () => {
    const picker = await hub.call(
      'GET',
      `/api/v1/projects/${s.projectId}/calm-projects?credentialId=${s.globalCredentialId}`,
      {
        token: s.admin,
      },
    );
    expect(picker.body.items.map((p: { id: string }) => p.id)).toContain(FAKE_CALM_PROJECT.id);
    calm.visibleProjectIds = new Set();
    const empty = await hub.call(
      'GET',
      `/api/v1/projects/${s.projectId}/calm-projects?credentialId=${s.globalCredentialId}`,
      {
        token: s.admin,
      },
    );
    calm.visibleProjectIds = undefined;
    expect(empty.body).toMatchObject({ items: [], note: expect.stringContaining('Type the project id') });
  });
});
