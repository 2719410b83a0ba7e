import type { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { givenTenant, givenUser, type TestHub } from './test-hub.js';

export const FAKE_SECRET = 'fake-calm-secret-7f3a9c';
export const FAKE_CALM_PROJECT = { id: '5f0c2a57-4c9b-4a55-9f5f-0d6d2b0e9a11', name: 'S/4HANA Rollout' };

/** A fake Cloud ALM with one visible project, the one `givenScenario` links to. */
export function seedFakeCalm(calm: FakeCloudAlm): void {
  if (!calm.projects.some((p) => p.id === FAKE_CALM_PROJECT.id))
    calm.addProject({ ...FAKE_CALM_PROJECT, status: 'O' });
}

export interface Scenario {
  admin: string;
  adminUserId: string;
  adminTokenId: string;
  projectId: string;
  globalCredentialId: string;
  projectCredentialId: string;
  integrationId: string;
  /** A finished full sync of the integration. */
  syncRunId: string;
  /** A webhook delivery the integration received (about a feature Cloud ALM does not know). */
  deliveryId: string;
  developer: { userId: string; token: string };
  viewer: { userId: string; token: string };
  otherTenant: { tenantId: string; adminToken: string };
}

async function ok<T>(
  response: Promise<{ status: number; body: T; text: string }>,
  expected: number,
): Promise<T> {
  const result = await response;
  if (result.status !== expected)
    throw new Error(`expected ${expected}, got ${result.status}: ${result.text}`);
  return result.body;
}

/**
 * Tenant "default" with a project, a global and a private Cloud ALM credential, an integration,
 * a developer and a viewer; and a second tenant with its own admin. Built over the API.
 */
export async function givenScenario(hub: TestHub): Promise<Scenario> {
  const admin = hub.adminToken;
  const me = await ok(hub.call('GET', '/api/v1/me', { token: admin }), 200);
  const project = await ok(
    hub.call('POST', '/api/v1/projects', { token: admin, body: { name: 'Finance' } }),
    201,
  );
  const credential = (name: string, projectId?: string) =>
    ok(
      hub.call('POST', '/api/v1/credentials', {
        token: admin,
        body: {
          name,
          ...(projectId ? { projectId } : {}),
          clientId: 'sb-client!b1|calm!b2',
          clientSecret: FAKE_SECRET,
          url: 'https://tenant.authentication.eu10.hana.ondemand.com',
          apiUrl: 'https://tenant.eu10.alm.cloud.sap/api',
        },
      }),
      201,
    );
  const global = await credential('Cloud ALM (global)');
  const own = await credential('Cloud ALM (project)', project.id);
  const integration = await ok(
    hub.call('POST', `/api/v1/projects/${project.id}/integrations`, {
      token: admin,
      body: { name: 'Cloud ALM', credentialId: global.id, calmProjectId: FAKE_CALM_PROJECT.id },
    }),
    201,
  );
  const run = await ok(
    hub.call('POST', `/api/v1/integrations/${integration.id}/sync`, { token: admin }),
    202,
  );
  for (let i = 0; i < 200; i++) {
    const state = (await hub.call('GET', `/api/v1/sync-runs/${run.id}`, { token: admin })).body.state;
    if (state === 'succeeded' || state === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const delivery = await ok(
    hub.call('POST', `/${integration.webhook.path}`, {
      body: {
        resourceType: 'FEATURE',
        eventType: 'FEATURE.UPDATED',
        resourceId: '00000000-0000-4000-8000-0000000000f1',
      },
    }),
    202,
  );
  const tenantId = me.tenant.id as string;
  const developer = await givenUser(hub, tenantId, 'dev@example.com', {
    projectId: project.id,
    role: 'developer',
  });
  const viewer = await givenUser(hub, tenantId, 'viewer@example.com', {
    projectId: project.id,
    role: 'viewer',
  });
  const otherTenant = await givenTenant(hub, 'other');
  return {
    admin,
    adminUserId: me.user.id,
    adminTokenId: me.tokenId,
    projectId: project.id,
    globalCredentialId: global.id,
    projectCredentialId: own.id,
    integrationId: integration.id,
    syncRunId: run.id,
    deliveryId: delivery.id,
    developer,
    viewer,
    otherTenant,
  };
}
