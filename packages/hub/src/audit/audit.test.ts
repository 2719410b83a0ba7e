import { testEngines } from '@calmhub/platform/testing';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { type CalmItems, givenCalmItems } from '../testing/calm-items.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import {
  FAKE_CALM_PROJECT,
  FAKE_SECRET,
  givenScenario,
  type Scenario,
  seedFakeCalm,
} from '../testing/scenario.js';
import { type ApiResponse, givenUser, startTestHub, type TestHub } from '../testing/test-hub.js';
import { CSV_COLUMNS } from './list-audit.js';
import type { AuditEntryView, AuditKind } from './types.js';

const ROTATED_SECRET = 'rotated-secret-5be1d0';

describe.each(testEngines)('Audit log (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let calmItems: CalmItems;
  /** Request id → the kind the walk expects it to have recorded. */
  const walked = new Map<string, AuditKind>();
  let issuedToken: string;
  let webhookKey: string;
  let walkStartedAt: string;
  let releaseManager: { userId: string; token: string };

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; requestId?: string; expect?: number } = {},
  ): Promise<ApiResponse> {
    const response = await hub.call(method, path, {
      token: options.token ?? s.admin,
      body: options.body,
      ...(options.requestId ? { headers: { 'x-request-id': options.requestId } } : {}),
    });
    if (options.expect !== undefined)
      expect(response.status, `${method} ${path}: ${response.text}`).toBe(options.expect);
    return response;
  }

  /** One walked action with its own request id. */
  async function act(kind: AuditKind, method: string, path: string, body?: unknown, token?: string) {
    const requestId = `walk-${walked.size + 1}-${kind}`;
    walked.set(requestId, kind);
    const response = await call(method, path, { body, token, requestId });
    expect(response.status, `${kind}: ${response.text}`).toBeLessThan(300);
    expect(response.headers['x-request-id']).toBe(requestId);
    return response;
  }

  async function allEntries(query = ''): Promise<AuditEntryView[]> {
    const items: AuditEntryView[] = [];
    let before: number | null = null;
    do {
      const page: ApiResponse = await call(
        'GET',
        `/api/v1/audit?limit=100${query}${before === null ? '' : `&before=${before}`}`,
        { expect: 200 },
      );
      items.push(...page.body.items);
      before = page.body.nextBefore;
    } while (before !== null);
    return items;
  }

  const byRequest = (entries: AuditEntryView[], requestId: string) =>
    entries.filter((entry) => entry.requestId === requestId);

  async function waitForRun(runId: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const state = (await call('GET', `/api/v1/sync-runs/${runId}`)).body.state;
      if (state === 'succeeded' || state === 'failed') return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  beforeAll(async () => {
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ engine, connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    calmItems = await givenCalmItems(hub, s);
    releaseManager = await givenUser(
      hub,
      (await call('GET', '/api/v1/me')).body.tenant.id,
      'rm@example.com',
      {
        projectId: s.projectId,
        role: 'release_manager',
      },
    );
    walkStartedAt = new Date().toISOString();

    // The walk: every state-changing action of the API, each with its own request id.
    const story = calmItems.stories.vendor?.id as string;
    await act('story.updated', 'PATCH', `/api/v1/stories/${story}`, { notes: 'walked' }, s.developer.token);
    const component = await act(
      'component.attached',
      'POST',
      `/api/v1/stories/${story}/components`,
      { deliverable: { name: 'Spec', url: 'https://example.com/spec' } },
      s.developer.token,
    );
    await act('component.updated', 'PATCH', `/api/v1/components/${component.body.id}`, {
      deliverable: { name: 'Spec v2' },
    });
    await act('component.detached', 'DELETE', `/api/v1/components/${component.body.id}`);
    await act('credential.updated', 'PATCH', `/api/v1/credentials/${s.projectCredentialId}`, {
      name: 'Cloud ALM (project, renamed)',
    });
    await act('credential.rotated', 'POST', `/api/v1/credentials/${s.projectCredentialId}/rotate`, {
      clientSecret: ROTATED_SECRET,
    });
    await act('credential.tested', 'POST', `/api/v1/credentials/${s.globalCredentialId}/test`);
    const basic = await act('credential.created', 'POST', '/api/v1/credentials', {
      name: 'Basic',
      projectId: s.projectId,
      type: 'basic',
      username: 'u',
      password: FAKE_SECRET,
    });
    await act('credential.deleted', 'DELETE', `/api/v1/credentials/${basic.body.id}`);
    await act('integration.updated', 'PATCH', `/api/v1/integrations/${s.integrationId}`, {
      description: 'audited',
    });
    await act(
      'integration.webhook_key_rotated',
      'POST',
      `/api/v1/integrations/${s.integrationId}/webhook/rotate`,
    );
    webhookKey = (await call('GET', `/api/v1/integrations/${s.integrationId}/webhook`, { expect: 200 })).body
      .secretKey;
    const second = await act('integration.created', 'POST', `/api/v1/projects/${s.projectId}/integrations`, {
      name: 'Second',
      credentialId: s.globalCredentialId,
      calmProjectId: FAKE_CALM_PROJECT.id,
    });
    await act('integration.deleted', 'DELETE', `/api/v1/integrations/${second.body.id}`);
    await act('project.updated', 'PATCH', `/api/v1/projects/${s.projectId}`, { description: 'Audited' });
    const user = await act('user.created', 'POST', '/api/v1/users', { email: 'Auditor@Example.com' });
    await act('user.updated', 'PATCH', `/api/v1/users/${user.body.id}`, { name: 'Auditor' });
    await act('member.set', 'PUT', `/api/v1/projects/${s.projectId}/members/${user.body.id}`, {
      role: 'approver',
    });
    await act('member.removed', 'DELETE', `/api/v1/projects/${s.projectId}/members/${user.body.id}`);
    const token = await act('token.created', 'POST', '/api/v1/tokens', {
      name: 'audited',
      userId: user.body.id,
    });
    issuedToken = token.body.token;
    await act('token.revoked', 'DELETE', `/api/v1/tokens/${token.body.apiToken.id}`);
    const run = await act('sync.requested', 'POST', `/api/v1/integrations/${s.integrationId}/sync`, {
      mode: 'delta',
    });
    await waitForRun(run.body.id);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('records every walked action once, with actor, role, object, before/after and the request id', async () => {
    const entries = await allEntries();
    for (const [requestId, kind] of walked) {
      const found = byRequest(entries, requestId);
      expect(
        found.map((entry) => entry.kind),
        requestId,
      ).toEqual([kind]);
      expect(found[0]?.actor.kind, requestId).toBe('user');
    }
    const one = (kind: AuditKind) =>
      entries.filter(
        (entry) => entry.kind === kind && entry.requestId?.startsWith('walk-'),
      )[0] as AuditEntryView;

    expect(one('story.updated')).toMatchObject({
      actor: { kind: 'user', id: s.developer.userId, label: 'dev@example.com' },
      role: 'developer',
      projectId: s.projectId,
      object: { kind: 'story', id: calmItems.stories.vendor?.id },
      before: { notes: null, labels: [] },
      after: { notes: 'walked', labels: [] },
    });
    expect(one('component.updated')).toMatchObject({
      role: 'tenant_admin',
      object: { kind: 'component', label: 'Spec' },
      before: { deliverable: { name: 'Spec' } },
      after: { deliverable: { name: 'Spec v2' } },
    });
    expect(one('component.detached')).toMatchObject({
      after: null,
      before: { deliverable: { name: 'Spec v2' } },
    });
    expect(one('credential.updated')).toMatchObject({
      projectId: s.projectId,
      object: { kind: 'credential', id: s.projectCredentialId, label: 'Cloud ALM (project, renamed)' },
      before: { name: 'Cloud ALM (project)', secret: '********' },
      after: { name: 'Cloud ALM (project, renamed)', secret: '********' },
    });
    expect(one('credential.rotated').after).toMatchObject({
      secret: '********',
      rotatedAt: expect.any(String),
    });
    expect(one('credential.tested')).toMatchObject({
      projectId: null,
      before: { lastTest: null },
      after: { lastTest: { ok: expect.any(Boolean) } },
    });
    expect(one('credential.deleted')).toMatchObject({
      before: { name: 'Basic', secret: '********' },
      after: null,
    });
    expect(one('integration.updated')).toMatchObject({
      object: { kind: 'integration', id: s.integrationId, label: 'Cloud ALM' },
      before: { description: '', webhook: null },
      after: { description: 'audited', webhook: null },
    });
    expect(one('project.updated')).toMatchObject({
      object: { kind: 'project', id: s.projectId, label: 'Finance' },
      before: { description: '' },
      after: { description: 'Audited' },
    });
    expect(one('user.created')).toMatchObject({
      projectId: null,
      role: 'tenant_admin',
      object: { kind: 'user', label: 'auditor@example.com' },
      before: null,
      after: { email: 'auditor@example.com' },
    });
    expect(one('member.set')).toMatchObject({
      object: { kind: 'member', label: 'auditor@example.com' },
      before: null,
      after: { role: 'approver' },
    });
    expect(one('member.removed')).toMatchObject({ before: { role: 'approver' }, after: null });
    expect(one('token.created')).toMatchObject({
      object: { kind: 'token', label: 'audited' },
      after: { name: 'audited' },
    });
    expect(one('token.revoked').after).toMatchObject({ revokedAt: expect.any(String) });
    expect(one('sync.requested')).toMatchObject({
      projectId: s.projectId,
      object: { kind: 'sync_run' },
      after: { mode: 'delta', state: 'queued' },
    });

    // The run's end is the sync job's, not a request's; the scenario's own sync and user set-up are there too.
    const run = one('sync.requested').object.id;
    const finished = entries.filter((entry) => entry.kind === 'sync.finished' && entry.object.id === run);
    expect(finished).toEqual([
      expect.objectContaining({
        actor: { kind: 'system', id: 'sync', label: 'sync job' },
        role: null,
        requestId: null,
        before: { state: 'running' },
        after: expect.objectContaining({
          state: 'succeeded',
          counts: expect.objectContaining({ calls: expect.any(Number) }),
        }),
      }),
    ]);
    const scenarioKinds = new Set(
      entries.filter((entry) => !entry.requestId?.startsWith('walk-')).map((e) => e.kind),
    );
    for (const kind of [
      'project.created',
      'credential.created',
      'integration.created',
      'sync.requested',
      'sync.finished',
      'user.created',
      'token.created',
    ] as const)
      expect(scenarioKinds, kind).toContain(kind);
    // Newest first, ids strictly falling.
    const ids = entries.map((entry) => entry.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('filters by kind, object, actor, time and project, and pages with a cursor', async () => {
    const kinds = await allEntries('&kind=credential.rotated&kind=credential.tested');
    expect(new Set(kinds.map((entry) => entry.kind))).toEqual(
      new Set(['credential.rotated', 'credential.tested']),
    );

    const ofCredential = await allEntries(`&objectKind=credential&objectId=${s.projectCredentialId}`);
    expect(ofCredential.map((entry) => entry.kind)).toEqual([
      'credential.rotated',
      'credential.updated',
      'credential.created',
    ]);

    const byEmail = await allEntries('&actor=DEV@example.com');
    const byId = await allEntries(`&actor=${s.developer.userId}`);
    expect(byEmail.map((entry) => entry.kind).sort()).toEqual(['component.attached', 'story.updated']);
    expect(byId).toEqual(byEmail);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await allEntries(`&from=${future}`)).toEqual([]);
    const sinceWalk = await allEntries(`&from=${walkStartedAt}`);
    expect(sinceWalk.some((entry) => entry.kind === 'project.created')).toBe(false);
    expect(sinceWalk.length).toBeGreaterThanOrEqual(walked.size);
    const untilWalk = await allEntries(`&to=${walkStartedAt}`);
    expect(untilWalk.some((entry) => entry.requestId?.startsWith('walk-'))).toBe(false);

    const all = await allEntries();
    const first = await call('GET', '/api/v1/audit?limit=3', { expect: 200 });
    expect(first.body.items.map((entry: AuditEntryView) => entry.id)).toEqual(
      all.slice(0, 3).map((entry) => entry.id),
    );
    const next = await call('GET', `/api/v1/audit?limit=3&before=${first.body.nextBefore}`, { expect: 200 });
    expect(next.body.items.map((entry: AuditEntryView) => entry.id)).toEqual(
      all.slice(3, 6).map((entry) => entry.id),
    );

    const project = await call('GET', `/api/v1/projects/${s.projectId}/audit?limit=500`, { expect: 200 });
    expect(project.body.items.length).toBeGreaterThan(10);
    expect(project.body.items.every((entry: AuditEntryView) => entry.projectId === s.projectId)).toBe(true);
    const narrowed = await allEntries(`&projectId=${s.projectId}`);
    expect(narrowed.map((entry) => entry.id)).toEqual(
      project.body.items.map((entry: AuditEntryView) => entry.id),
    );
    expect(all.some((entry) => entry.projectId === null)).toBe(true);
  });

  it('exports the same entries as CSV with a header row, for the tenant and for a project', async () => {
    const csv = await call('GET', '/api/v1/audit.csv?kind=credential.updated&kind=credential.rotated', {
      expect: 200,
    });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/attachment/);
    const rows = parse(csv.text, { columns: true }) as Array<Record<string, string>>;
    expect(csv.text.split('\n')[0]).toBe(CSV_COLUMNS.join(','));
    const json = await allEntries('&kind=credential.updated&kind=credential.rotated');
    expect(rows.map((row) => Number(row.id))).toEqual(json.map((entry) => entry.id));
    const rotated = rows.find((row) => row.kind === 'credential.rotated') as Record<string, string>;
    expect(rotated).toMatchObject({
      actorKind: 'user',
      role: 'tenant_admin',
      objectId: s.projectCredentialId,
    });
    expect(rotated.requestId).toMatch(/^walk-\d+-credential\.rotated$/);
    expect(JSON.parse(rotated.after as string)).toMatchObject({ secret: '********' });

    const project = await call('GET', `/api/v1/projects/${s.projectId}/audit.csv`, {
      token: releaseManager.token,
      expect: 200,
    });
    const projectRows = parse(project.text, { columns: true }) as Array<Record<string, string>>;
    const projectJson = await call('GET', `/api/v1/projects/${s.projectId}/audit?limit=500`, { expect: 200 });
    expect(projectRows.map((row) => Number(row.id))).toEqual(
      projectJson.body.items.map((e: AuditEntryView) => e.id),
    );

    const none = await call(
      'GET',
      `/api/v1/audit.csv?from=${new Date(Date.now() + 3_600_000).toISOString()}`,
      {
        expect: 200,
      },
    );
    expect(none.text.trim()).toBe(CSV_COLUMNS.join(','));
  });

  it('never holds a secret, a token or a webhook key, in a row or in the CSV', async () => {
    const rows = await hub.hub.deps.db.selectFrom('hub_audit_log').selectAll().execute();
    const stored = JSON.stringify(rows);
    const csv = (await call('GET', '/api/v1/audit.csv', { expect: 200 })).text;
    expect(rows.length).toBeGreaterThan(walked.size);
    for (const secret of [FAKE_SECRET, ROTATED_SECRET, issuedToken, s.admin, s.developer.token, webhookKey]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(stored).not.toContain(secret);
      expect(csv).not.toContain(secret);
    }
  });

  it("keeps tenants apart: tenant B sees only its own entries and none of A's projects", async () => {
    const b = s.otherTenant.adminToken;
    const list = await call('GET', '/api/v1/audit?limit=500', { token: b, expect: 200 });
    const aIds = [
      s.projectId,
      s.integrationId,
      s.globalCredentialId,
      s.projectCredentialId,
      s.developer.userId,
    ];
    for (const id of aIds) expect(list.text).not.toContain(id);
    expect(list.body.items.map((entry: AuditEntryView) => entry.kind).sort()).toEqual([
      'token.created',
      'user.created',
    ]);
    const csv = await call('GET', '/api/v1/audit.csv', { token: b, expect: 200 });
    for (const id of aIds) expect(csv.text).not.toContain(id);
    await call('GET', `/api/v1/projects/${s.projectId}/audit`, { token: b, expect: 404 });
    await call('GET', `/api/v1/projects/${s.projectId}/audit.csv`, { token: b, expect: 404 });
    const filtered = await call('GET', `/api/v1/audit?projectId=${s.projectId}`, { token: b, expect: 200 });
    expect(filtered.body.items).toEqual([]);
  });

  it('lets project admins and release managers read the project log; viewers, developers and members get 403', async () => {
    await call('GET', `/api/v1/projects/${s.projectId}/audit`, { token: releaseManager.token, expect: 200 });
    for (const token of [s.viewer.token, s.developer.token]) {
      for (const path of [
        `/api/v1/projects/${s.projectId}/audit`,
        `/api/v1/projects/${s.projectId}/audit.csv`,
      ]) {
        const denied = await call('GET', path, { token, expect: 403 });
        expect(denied.body.error.message).toMatch(/audit\.read_project/);
      }
    }
    for (const path of ['/api/v1/audit', '/api/v1/audit.csv'])
      await call('GET', path, { token: releaseManager.token, expect: 403 });
  });

  it('answers 400 to bad filter values', async () => {
    for (const query of [
      'from=yesterday',
      'to=2026-13-45T00:00:00Z',
      'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'kind=credential.stolen',
      'before=abc',
      'before=0',
      'limit=0',
      'limit=501',
      'projectId=nope',
      'objectKind=Credential!',
      'unknown=1',
    ]) {
      for (const path of ['/api/v1/audit', '/api/v1/audit.csv']) {
        // The CSV takes no paging at all, so `before` and `limit` are unknown there: 400 as well.
        const response = await call('GET', `${path}?${query}`);
        expect(response.status, `${path}?${query}: ${response.text}`).toBe(400);
        expect(response.body.error.code).toEqual(expect.any(String));
      }
    }
  });

  it('writes nothing for an action that fails, and no route changes or deletes an entry', async () => {
    const count = async () =>
      (await hub.hub.deps.db.selectFrom('hub_audit_log').select('id').execute()).length;
    const before = await count();
    await call('POST', '/api/v1/projects', { body: { name: 'Finance' }, expect: 409 });
    await call('POST', '/api/v1/credentials', {
      body: { name: 'Cloud ALM (global)', type: 'basic', username: 'u', password: 'p' },
      expect: 409,
    });
    await call('DELETE', `/api/v1/credentials/${s.globalCredentialId}`, { expect: 409 });
    await call('PATCH', `/api/v1/projects/${s.projectId}`, {
      token: s.viewer.token,
      body: { name: 'x' },
      expect: 403,
    });
    expect(await count()).toBe(before);

    const openapi = await hub.call('GET', '/api/openapi.json');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths['/api/v1/audit.csv'].get.responses['200'].content)).toEqual([
      'text/csv',
    ]);
    expect(openapi.body.paths['/api/v1/audit'].get.responses['200']).toBeDefined();
    const auditRoutes = hub.hub.routes.filter((route) => route.url.includes('/audit'));
    expect(auditRoutes.length).toBe(4);
    expect(new Set(auditRoutes.map((route) => route.method))).toEqual(new Set(['GET']));
  });
});
