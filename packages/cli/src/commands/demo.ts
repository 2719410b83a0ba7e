import type { Config, Logger } from '@calmhub/platform';
import { DEFAULT_SANDBOX_PORT, type Sandbox, startSandbox } from '@calmhub/sandbox';
import { type ApiClient, createApiClient } from '../client/api-client.js';

export const DEMO_PROJECT = 'Demo';
export const DEMO_CREDENTIAL = 'Cloud ALM sandbox';
export const DEMO_CALM_PROJECT = 'S/4HANA Finance Transformation';

/** The sandbox `npm start` runs beside the hub: a seeded local Cloud ALM under the same data directory. */
export async function startDemoSandbox(config: Config, logger: Logger): Promise<Sandbox> {
  return startSandbox({
    host: config.host,
    port: DEFAULT_SANDBOX_PORT,
    dataDir: config.dataDir,
    seed: 'demo',
    logger: logger.child({ component: 'sandbox' }),
  });
}

async function findByName<T extends { name: string }>(
  api: ApiClient,
  path: string,
  name: string,
): Promise<T | undefined> {
  return (await api.get<{ items: T[] }>(path)).items.find((item) => item.name === name);
}

/**
 * Links a hub project to the sandbox over the hub's public API, exactly as a user would (the
 * service key pasted as a credential, the Cloud ALM project picked by name). Idempotent: what
 * exists is kept.
 */
export async function linkDemoProject(
  hubUrl: string,
  token: string,
  sandbox: Sandbox,
): Promise<{ webhookUrl?: string }> {
  const api = createApiClient(hubUrl, token);
  const project =
    (await findByName<{ id: string; name: string }>(api, '/api/v1/projects', DEMO_PROJECT)) ??
    (await api.post<{ id: string }>('/api/v1/projects', {
      name: DEMO_PROJECT,
      description: 'Linked to the sandbox Cloud ALM',
    }));
  const credential =
    (await findByName<{ id: string; name: string }>(api, '/api/v1/credentials', DEMO_CREDENTIAL)) ??
    (await api.post<{ id: string }>('/api/v1/credentials', {
      name: DEMO_CREDENTIAL,
      serviceKey: sandbox.serviceKey,
    }));
  await givenDemoPipeline(api, sandbox, project.id);
  const integrations = `/api/v1/projects/${project.id}/integrations`;
  const existing = await findByName<{ name: string; webhook: { url: string } | null }>(
    api,
    integrations,
    'Cloud ALM',
  );
  if (existing) return existing.webhook ? { webhookUrl: existing.webhook.url } : {};
  const picker = await api.get<{ items: Array<{ id: string; name: string }> }>(
    `/api/v1/projects/${project.id}/calm-projects?credentialId=${credential.id}`,
  );
  const calmProject = picker.items.find((p) => p.name === DEMO_CALM_PROJECT) ?? picker.items[0];
  if (!calmProject) return {};
  const created = await api.post<{ id: string; webhook: { url: string; path: string } | null }>(
    integrations,
    {
      name: 'Cloud ALM',
      credentialId: credential.id,
      calmProjectId: calmProject.id,
    },
  );
  await api.post(`/api/v1/integrations/${created.id}/sync`, { mode: 'full' });
  if (created.webhook) await configurePush(sandbox, hubUrl, created.webhook.path, calmProject.id);
  return created.webhook ? { webhookUrl: created.webhook.url } : {};
}

/** The sandbox's CTMS landscape (DEV → QAS → PRD) and Cloud Integration tenant behind the demo pipeline. */
export const DEMO_PIPELINE_YAML = `name: Demo release
description: Transports through the sandbox's CTMS (DEV → QAS → PRD); integration flows deployed in place
stages:
  - key: dev
    name: Development
    targets: { ctms: { credential: CTMS sandbox, node: DEV }, cloudIntegration: { credential: Cloud Integration sandbox } }
  - key: test
    name: Quality
    targets: { ctms: { credential: CTMS sandbox, node: QAS }, cloudIntegration: { credential: Cloud Integration sandbox } }
    tasks:
      pre:
        - { type: validation, name: Quality gate, continueOnFailure: true }
      deploy:
        - { type: deployment, name: Import transports into QAS, kind: ctms_import }
        - { type: deployment, name: Deploy integration flows, kind: cpi_deploy }
  - key: production
    name: Production
    targets: { ctms: { credential: CTMS sandbox, node: PRD } }
    tasks:
      pre:
        - { type: approval, name: Release approval, roles: [approver, release_manager] }
      deploy:
        - { type: deployment, name: Import transports into PRD, kind: ctms_import }
`;

/** CTMS and Cloud Integration credentials from the sandbox's keys and the demo pipeline, unless there. */
async function givenDemoPipeline(api: ApiClient, sandbox: Sandbox, projectId: string): Promise<void> {
  const admin = createApiClient(`${sandbox.url}/admin`, sandbox.adminToken);
  for (const [name, path] of [
    ['CTMS sandbox', '/ctms/service-key'],
    ['Cloud Integration sandbox', '/cpi/service-key'],
  ] as const) {
    if (!(await findByName(api, '/api/v1/credentials', name)))
      await api.post('/api/v1/credentials', { name, serviceKey: await admin.get(path) });
  }
  const pipelines = await api.get<{ items: unknown[] }>(`/api/v1/projects/${projectId}/pipelines`);
  if (pipelines.items.length === 0)
    await api.post(`/api/v1/projects/${projectId}/pipelines/import`, DEMO_PIPELINE_YAML);
}

/**
 * The sandbox's External API Management set up as the seed's "Webhook Configuration" describes
 * (destination → webhook with the path → Feature subscription → project opt-in), so lifecycle
 * buttons on the sandbox's page reach the hub. Done through the sandbox's admin API, as a person
 * would in Cloud ALM and BTP; the hub itself never calls it.
 */
async function configurePush(
  sandbox: Sandbox,
  hubUrl: string,
  path: string,
  calmProjectId: string,
): Promise<void> {
  const admin = createApiClient(`${sandbox.url}/admin`, sandbox.adminToken);
  await admin.post('/eam/destinations', {
    Name: 'calmhub',
    Type: 'HTTP',
    URL: hubUrl,
    ProxyType: 'Internet',
    Authentication: 'NoAuthentication',
  });
  const webhook = await admin.post<{ id: string }>('/eam/webhooks', {
    name: 'calmhub',
    destinationName: 'calmhub',
    path,
  });
  const subscription = await admin.post<{ id: string }>('/eam/subscriptions', {
    name: 'calmhub features',
    type: 'EXTERNAL',
    resourceType: 'FEATURE',
    webhookId: webhook.id,
  });
  await admin.post(`/projects/${calmProjectId}/subscriptions`, {
    itemType: 'FEATURE',
    subscriptionId: subscription.id,
  });
}
