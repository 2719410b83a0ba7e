import { testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import type { HubTables } from '../store/tables.js';
import { type CalmItems, givenCalmItems } from '../testing/calm-items.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import { FAKE_SECRET, givenScenario, type Scenario, seedFakeCalm } from '../testing/scenario.js';
import { type ApiResponse, startTestHub, type TestHub, waitForIdle } from '../testing/test-hub.js';
import { waitForJobs } from '../testing/wait-for-jobs.js';
import { WRITE_BACK_FLUSH } from '../writeback/jobs.js';

/**
 * Every registered /api/v1 route needs a case here: the route list comes from Fastify's own
 * registry, so a new route without a case fails this file. Each case says how to call the route on
 * tenant A's objects; the walks then check tenant isolation, roles and bad input on all of them.
 */
interface RouteCase {
  params?: (s: Scenario) => Record<string, string>;
  query?: (s: Scenario) => string;
  body?: (s: Scenario) => unknown;
  /**
   * `hidden`: tenant B naming A's objects gets 404. `scoped`: the route answers about the caller's
   * own tenant (lists, own profile, creations there), so B gets a 2xx without any of A's ids.
   */
  isolation: 'hidden' | 'scoped';
}

const project = (s: Scenario) => ({ id: s.projectId });
const credential = (s: Scenario) => ({ id: s.projectCredentialId });
const integration = (s: Scenario) => ({ id: s.integrationId });
// Synced Cloud ALM items and an attached component, made in beforeAll.
let calmItems: CalmItems;
let componentId: string;
const story = () => ({ id: calmItems.stories.vendor?.id as string });
const component = () => ({ id: componentId });
// A pipeline of the project, made in beforeAll.
let pipelineId: string;
const pipeline = () => ({ id: pipelineId });
// A run of the story into the pipeline's second stage, waiting for its approval.
let runId: string;
const run = () => ({ id: runId });
const pipelineBody = () => ({
  name: `Walk ${Math.random()}`,
  stages: [
    { key: 'dev', name: 'Development' },
    {
      key: 'test',
      name: 'Test',
      tasks: { pre: [{ type: 'approval', name: 'QA', roles: ['release_manager'] }] },
    },
  ],
});

const CASES: Record<string, RouteCase> = {
  'GET /api/v1/me': { isolation: 'scoped' },
  'GET /api/v1/users': { isolation: 'scoped' },
  'POST /api/v1/users': { isolation: 'scoped', body: () => ({ email: `new-${Math.random()}@example.com` }) },
  'GET /api/v1/users/:id': { isolation: 'hidden', params: (s) => ({ id: s.developer.userId }) },
  'PATCH /api/v1/users/:id': {
    isolation: 'hidden',
    params: (s) => ({ id: s.developer.userId }),
    body: () => ({ name: 'Renamed' }),
  },
  'GET /api/v1/tokens': { isolation: 'scoped' },
  'POST /api/v1/tokens': {
    isolation: 'hidden',
    body: (s) => ({ name: 'for someone', userId: s.developer.userId }),
  },
  'DELETE /api/v1/tokens/:id': { isolation: 'hidden', params: (s) => ({ id: s.adminTokenId }) },
  'GET /api/v1/projects': { isolation: 'scoped' },
  'POST /api/v1/projects': { isolation: 'scoped', body: () => ({ name: `Project ${Math.random()}` }) },
  'GET /api/v1/projects/:id': { isolation: 'hidden', params: project },
  'PATCH /api/v1/projects/:id': {
    isolation: 'hidden',
    params: project,
    body: () => ({ description: 'changed' }),
  },
  'GET /api/v1/projects/:id/members': { isolation: 'hidden', params: project },
  'PUT /api/v1/projects/:id/members/:userId': {
    isolation: 'hidden',
    params: (s) => ({ id: s.projectId, userId: s.developer.userId }),
    body: () => ({ role: 'approver' }),
  },
  'DELETE /api/v1/projects/:id/members/:userId': {
    isolation: 'hidden',
    params: (s) => ({ id: s.projectId, userId: s.developer.userId }),
  },
  'GET /api/v1/credentials': { isolation: 'scoped' },
  'POST /api/v1/credentials': {
    isolation: 'hidden',
    body: (s) => ({
      name: `Another ${Math.random()}`,
      projectId: s.projectId,
      type: 'basic',
      username: 'u',
      password: 'p',
    }),
  },
  'GET /api/v1/credentials/:id': { isolation: 'hidden', params: credential },
  'PATCH /api/v1/credentials/:id': {
    isolation: 'hidden',
    params: credential,
    body: () => ({ name: 'Renamed credential' }),
  },
  'POST /api/v1/credentials/:id/rotate': {
    isolation: 'hidden',
    params: credential,
    body: () => ({ clientSecret: FAKE_SECRET }),
  },
  'POST /api/v1/credentials/:id/test': { isolation: 'hidden', params: credential },
  'DELETE /api/v1/credentials/:id': { isolation: 'hidden', params: credential },
  'GET /api/v1/projects/:id/calm-projects': {
    isolation: 'hidden',
    params: project,
    query: (s) => `credentialId=${s.globalCredentialId}`,
  },
  'GET /api/v1/projects/:id/integrations': { isolation: 'hidden', params: project },
  'POST /api/v1/projects/:id/integrations': {
    isolation: 'hidden',
    params: project,
    body: (s) => ({
      name: 'Second',
      credentialId: s.globalCredentialId,
      calmProjectId: '5f0c2a57-4c9b-4a55-9f5f-0d6d2b0e9a11',
    }),
  },
  'GET /api/v1/integrations/:id': { isolation: 'hidden', params: integration },
  'PATCH /api/v1/integrations/:id': {
    isolation: 'hidden',
    params: integration,
    body: () => ({ enabled: false }),
  },
  'DELETE /api/v1/integrations/:id': { isolation: 'hidden', params: integration },
  'GET /api/v1/integrations/:id/webhook': { isolation: 'hidden', params: integration },
  'POST /api/v1/integrations/:id/webhook/rotate': { isolation: 'hidden', params: integration },
  'GET /api/v1/projects/:id/stories': {
    isolation: 'hidden',
    params: project,
    query: () => 'status=CIPUSOPEN&limit=5',
  },
  'GET /api/v1/stories/:id': { isolation: 'hidden', params: story },
  'PATCH /api/v1/stories/:id': { isolation: 'hidden', params: story, body: () => ({ notes: 'walked' }) },
  'GET /api/v1/features/:id': {
    isolation: 'hidden',
    params: () => ({ id: calmItems.features.payments?.id as string }),
  },
  'GET /api/v1/stories/:id/components': { isolation: 'hidden', params: story },
  'POST /api/v1/stories/:id/components': {
    isolation: 'hidden',
    params: story,
    body: () => ({ deliverable: { name: 'Spec', url: 'https://example.com/spec' } }),
  },
  'PATCH /api/v1/components/:id': {
    isolation: 'hidden',
    params: component,
    body: () => ({ deliverable: { name: 'Renamed' } }),
  },
  'DELETE /api/v1/components/:id': { isolation: 'hidden', params: component },
  'GET /api/v1/stories/:id/transport-suggestions': { isolation: 'hidden', params: story },
  'POST /api/v1/integrations/:id/sync': {
    isolation: 'hidden',
    params: integration,
    body: () => ({ mode: 'delta' }),
  },
  'GET /api/v1/integrations/:id/sync-runs': {
    isolation: 'hidden',
    params: integration,
    query: () => 'limit=5',
  },
  'GET /api/v1/sync-runs/:id': { isolation: 'hidden', params: (s) => ({ id: s.syncRunId }) },
  'GET /api/v1/integrations/:id/inbox': {
    isolation: 'hidden',
    params: integration,
    query: () => 'state=processed',
  },
  'GET /api/v1/inbox/:id': { isolation: 'hidden', params: (s) => ({ id: s.deliveryId }) },
  'POST /api/v1/inbox/:id/replay': { isolation: 'hidden', params: (s) => ({ id: s.deliveryId }) },
  'GET /api/v1/integrations/:id/webhook/status': { isolation: 'hidden', params: integration },
  'POST /api/v1/integrations/:id/webhook/self-test': { isolation: 'hidden', params: integration },
  'GET /api/v1/integrations/:id/webhook/checklist': { isolation: 'hidden', params: integration },
  'PUT /api/v1/integrations/:id/webhook/basic-auth': {
    isolation: 'hidden',
    params: integration,
    body: () => ({ user: 'btp', password: 'destination-password' }),
  },
  'GET /api/v1/integrations/:id/status-actions': { isolation: 'hidden', params: integration },
  'PUT /api/v1/integrations/:id/status-actions': {
    isolation: 'hidden',
    params: integration,
    body: () => ({
      items: [{ statusCode: 'IN_TESTING', action: 'promote', targetStage: 'test', enabled: true }],
    }),
  },
  'GET /api/v1/audit': {
    isolation: 'scoped',
    query: () => 'kind=credential.created&kind=project.created&limit=20',
  },
  'GET /api/v1/audit.csv': { isolation: 'scoped', query: () => 'kind=credential.created' },
  'GET /api/v1/projects/:id/audit': { isolation: 'hidden', params: project, query: () => 'limit=20' },
  'GET /api/v1/projects/:id/audit.csv': { isolation: 'hidden', params: project },
  'GET /api/v1/integrations/:id/writeback-settings': { isolation: 'hidden', params: integration },
  'PUT /api/v1/integrations/:id/writeback-settings': {
    isolation: 'hidden',
    params: integration,
    body: () => ({ targets: { feature_line: true }, actions: { 'status.changed': true } }),
  },
  'GET /api/v1/stories/:id/writebacks': { isolation: 'hidden', params: story },
  'GET /api/v1/projects/:id/pipelines': { isolation: 'hidden', params: project },
  'POST /api/v1/projects/:id/pipelines': { isolation: 'hidden', params: project, body: pipelineBody },
  'POST /api/v1/projects/:id/pipelines/import': { isolation: 'hidden', params: project, body: pipelineBody },
  'GET /api/v1/pipelines/:id': { isolation: 'hidden', params: pipeline },
  'PUT /api/v1/pipelines/:id': { isolation: 'hidden', params: pipeline, body: pipelineBody },
  'DELETE /api/v1/pipelines/:id': { isolation: 'hidden', params: pipeline },
  'GET /api/v1/pipelines/:id/versions': { isolation: 'hidden', params: pipeline },
  'GET /api/v1/pipelines/:id/versions/:version': {
    isolation: 'hidden',
    params: () => ({ id: pipelineId, version: '1' }),
  },
  'POST /api/v1/pipelines/:id/default': { isolation: 'hidden', params: pipeline },
  'GET /api/v1/pipelines/:id/export': { isolation: 'hidden', params: pipeline },
  'GET /api/v1/stories/:id/pipeline': { isolation: 'hidden', params: story },
  'PUT /api/v1/stories/:id/pipeline': {
    isolation: 'hidden',
    params: story,
    body: () => ({ pipelineId }),
  },
  'GET /api/v1/stories/:id/dependencies': { isolation: 'hidden', params: story },
  'POST /api/v1/stories/:id/dependencies': {
    isolation: 'hidden',
    params: story,
    body: () => ({ dependsOn: calmItems.stories.balance?.id as string }),
  },
  'POST /api/v1/stories/:id/promote': { isolation: 'hidden', params: story, body: () => ({}) },
  'GET /api/v1/stories/:id/pipeline-status': { isolation: 'hidden', params: story },
  'GET /api/v1/runs': { isolation: 'hidden', query: (s) => `projectId=${s.projectId}` },
  'GET /api/v1/runs/:id': { isolation: 'hidden', params: run },
  'POST /api/v1/runs/:id/approve': {
    isolation: 'hidden',
    params: run,
    body: () => ({ decision: 'approve', comment: 'fine' }),
  },
  'POST /api/v1/runs/:id/retry': { isolation: 'hidden', params: run },
  'POST /api/v1/runs/:id/abort': { isolation: 'hidden', params: run },
  'POST /api/v1/runs/:id/rollback': {
    isolation: 'hidden',
    params: run,
    body: () => ({ taskKey: 'deploy.0' }),
  },
  'GET /api/v1/projects/:id/run-events': {
    isolation: 'hidden',
    params: project,
    query: () => 'follow=false',
  },
  'DELETE /api/v1/stories/:id/dependencies/:dependsOnId': {
    isolation: 'hidden',
    params: () => ({ id: story().id, dependsOnId: calmItems.stories.customer?.id as string }),
  },
};

function pathOf(url: string, params: Record<string, string>): string {
  return url.replace(/:(\w+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${url}`);
    return encodeURIComponent(value);
  });
}

const TABLES: Array<keyof HubTables> = [
  'hub_tenants',
  'hub_users',
  'hub_api_tokens',
  'hub_projects',
  'hub_project_members',
  'hub_credentials',
  'hub_integrations',
  'hub_story_fields',
  'hub_story_components',
  'hub_audit_log',
  'hub_writeback_settings',
  'hub_sync_runs',
  'hub_calm_features',
  'hub_calm_stories',
  'hub_status_transitions',
  'hub_webhook_inbox',
  'hub_webhook_state',
  'hub_status_actions',
  'hub_promotion_requests',
  'hub_pipelines',
  'hub_pipeline_versions',
  'hub_story_pipelines',
  'hub_story_dependencies',
  'hub_story_stages',
  'hub_pipeline_runs',
  'hub_run_tasks',
  'hub_run_approvals',
  'hub_run_events',
  'hub_cpi_backups',
];

/** Everything stored, except when a token was last used (reads bump it). */
async function snapshot(hub: TestHub): Promise<string> {
  const db = hub.hub.deps.db;
  const parts: unknown[] = [];
  for (const table of TABLES) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Array<Record<string, unknown>>;
    parts.push(rows.map(({ last_used_at: _ignored, ...rest }) => JSON.stringify(rest)).sort());
  }
  const jobs = await hub.hub.queue.list({ limit: 1000 });
  parts.push(jobs.length);
  return JSON.stringify(parts);
}

function expectErrorContract(response: ApiResponse, status: number | 'any4xx'): void {
  if (status === 'any4xx') {
    expect(response.status, response.text).toBeGreaterThanOrEqual(400);
    expect(response.status, response.text).toBeLessThan(500);
  } else expect(response.status, response.text).toBe(status);
  expect(response.body?.error?.code, response.text).toEqual(expect.any(String));
  expect(response.body?.error?.message, response.text).toEqual(expect.any(String));
  expect(response.body?.error?.requestId, response.text).toEqual(expect.any(String));
}

describe.each(testEngines)('every route (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let routes: Array<{ key: string; method: string; url: string; case: RouteCase }>;

  beforeAll(async () => {
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ engine, connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    calmItems = await givenCalmItems(hub, s);
    const attached = await hub.call('POST', `/api/v1/stories/${story().id}/components`, {
      token: s.admin,
      body: { abapTransport: { number: 'S4DK900121' } },
    });
    componentId = attached.body.id;
    const created = await hub.call('POST', `/api/v1/projects/${s.projectId}/pipelines`, {
      token: s.admin,
      body: pipelineBody(),
    });
    pipelineId = created.body.id;
    const promoted = await hub.call('POST', `/api/v1/stories/${story().id}/promote`, {
      token: s.admin,
      body: {},
    });
    expect(promoted.status, promoted.text).toBe(202);
    runId = promoted.body.id;
    await hub.call('POST', `/api/v1/stories/${story().id}/dependencies`, {
      token: s.admin,
      body: { dependsOn: calmItems.stories.customer?.id },
    });
    // The attach's write-backs to Cloud ALM run after a batching window: done before any walk.
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    await waitForIdle(hub);
    routes = hub.hub.routes.map(({ method, url }) => {
      const key = `${method} ${url}`;
      return { key, method, url, case: CASES[key] as RouteCase };
    });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('has a case for every registered route, and no case for a route that is gone', () => {
    const registered = routes.map((r) => r.key).sort();
    expect(
      registered.filter((key) => !(key in CASES)),
      'routes without a case',
    ).toEqual([]);
    expect(
      Object.keys(CASES).filter((key) => !registered.includes(key)),
      'cases without a route',
    ).toEqual([]);
  });

  it('documents a success answer and the error answers of every route', () => {
    for (const route of hub.hub.routes) {
      const success = route.responses.filter((status) => status.startsWith('2'));
      expect(success.length, `${route.method} ${route.url}`).toBe(1);
      expect(route.responses, `${route.method} ${route.url}`).toContain('401');
    }
  });

  it("tenant B gets 404 for each of tenant A's objects, and sees none of them in its lists", async () => {
    const aIds = [
      s.projectId,
      s.globalCredentialId,
      s.projectCredentialId,
      s.integrationId,
      s.developer.userId,
      s.viewer.userId,
    ];
    for (const route of routes) {
      const c = route.case;
      const path = pathOf(route.url, c.params?.(s) ?? {}) + (c.query ? `?${c.query(s)}` : '');
      const response = await hub.call(route.method, path, {
        token: s.otherTenant.adminToken,
        body: c.body?.(s),
      });
      if (c.isolation === 'hidden') {
        expectErrorContract(response, 404);
      } else {
        expect(response.status, `${route.key}: ${response.text}`).toBeLessThan(300);
        for (const id of aIds) expect(response.text, `${route.key} leaks ${id}`).not.toContain(id);
      }
    }
    // B's own creations (users, projects) landed in B: A's data is untouched.
    const aProjects = await hub.call('GET', '/api/v1/projects', { token: s.admin });
    expect(aProjects.body.items.map((p: { name: string }) => p.name)).toEqual(['Finance']);
  });

  it('a viewer gets 403 naming the action for every write, and nothing changes', async () => {
    const before = await snapshot(hub);
    const writes = routes.filter((r) => r.method !== 'GET' || r.url.endsWith('/calm-projects'));
    expect(writes.length).toBeGreaterThan(15);
    for (const route of writes) {
      const c = route.case;
      const path = pathOf(route.url, c.params?.(s) ?? {}) + (c.query ? `?${c.query(s)}` : '');
      // The token routes' cases act on someone else's token: a viewer's own tokens are theirs to manage.
      const response = await hub.call(route.method, path, { token: s.viewer.token, body: c.body?.(s) });
      expectErrorContract(response, 403);
      expect(response.body.error.message, route.key).toMatch(/Not allowed to [a-z_.]+/);
    }
    expect(await snapshot(hub)).toBe(before);
  });

  it('bad input on every route answers 4xx with the error contract, never 5xx, and stores nothing', async () => {
    const before = await snapshot(hub);
    let probes = 0;
    for (const route of routes) {
      const c = route.case;
      const params = c.params?.(s) ?? {};
      const good = pathOf(route.url, params) + (c.query ? `?${c.query(s)}` : '');
      const variants: Array<{ path: string; rawBody?: string; contentType?: string }> = [];
      for (const name of Object.keys(params)) {
        for (const bad of ['not-a-uuid', "1' or '1'='1", '%00', 'x'.repeat(300)]) {
          variants.push({
            path: pathOf(route.url, { ...params, [name]: bad }) + (c.query ? `?${c.query(s)}` : ''),
          });
        }
      }
      if (c.query) {
        variants.push({ path: `${pathOf(route.url, params)}?credentialId=nope&projectId=nope` });
        variants.push({ path: `${pathOf(route.url, params)}?${c.query(s)}&unknown[x]=1` });
      }
      if (route.url.endsWith('/credentials') && route.method === 'GET')
        variants.push({ path: `${good}?projectId=x` });
      if (c.body) {
        for (const rawBody of [
          '{"name":',
          '[]',
          '"text"',
          '{"zzz":1}',
          '{"name":123,"email":[],"role":"king"}',
          'null',
        ]) {
          variants.push({ path: good, rawBody });
        }
        variants.push({ path: good, rawBody: 'name=x', contentType: 'application/x-www-form-urlencoded' });
        variants.push({ path: good, rawBody: '{"name":"\u0000\u0007"}' });
      }
      for (const variant of variants) {
        const response = await hub.call(route.method, variant.path, {
          token: s.admin,
          ...(variant.rawBody === undefined ? {} : { rawBody: variant.rawBody }),
          ...(variant.contentType ? { contentType: variant.contentType } : {}),
        });
        probes++;
        expectErrorContract(response, 'any4xx');
      }
    }
    expect(probes).toBeGreaterThan(100);
    expect(await snapshot(hub)).toBe(before);
  });
});
