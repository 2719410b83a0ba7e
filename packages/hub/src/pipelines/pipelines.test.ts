import { testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { type CalmItems, givenCalmItems } from '../testing/calm-items.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import { FAKE_SECRET, givenScenario, type Scenario, seedFakeCalm } from '../testing/scenario.js';
import { givenUser, startTestHub, type TestHub } from '../testing/test-hub.js';
import { loadPipelineVersion } from './load-pipeline.js';
import { effectivePipeline } from './story-pipeline.js';

/** A pipeline through test to production over CTMS and Cloud Integration (credentials made in beforeAll). */
const RELEASE = {
  name: 'Release',
  description: 'Development, test, production',
  stages: [
    { key: 'dev', name: 'Development', targets: { cloudIntegration: { credential: 'CPI dev' } } },
    {
      key: 'test',
      name: 'Test',
      targets: { ctms: { credential: 'CTMS', node: 'QAS' }, cloudIntegration: { credential: 'CPI test' } },
      tasks: {
        pre: [{ type: 'validation', name: 'Ready?', checks: ['transports_released', 'dependencies'] }],
        deploy: [
          { type: 'deployment', name: 'Import transports', kind: 'ctms_import' },
          { type: 'deployment', name: 'Deploy iFlows', kind: 'cpi_deploy' },
        ],
      },
      featureStatusOnPass: 'IN_TESTING',
    },
    {
      key: 'prod',
      name: 'Production',
      targets: { ctms: { credential: 'CTMS', node: 'PRD' } },
      tasks: {
        pre: [
          {
            type: 'approval',
            name: 'Change board',
            users: ['cab1@example.com', 'cab2@example.com'],
            required: 2,
          },
          { type: 'approval', name: 'Release manager', roles: ['release_manager'] },
        ],
        deploy: [{ type: 'deployment', name: 'Import transports', kind: 'ctms_import' }],
      },
    },
  ],
};

/** A definition with one change at `path` (dotted, numbers index lists). */
function changed(path: string, value: unknown, base: unknown = RELEASE): Record<string, unknown> {
  const copy = structuredClone(base) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

describe.each(testEngines)('release pipelines (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  let releaseManager: { userId: string; token: string };
  let otherProjectId: string;
  /** Tenant "default", the scenario's. */
  let tenantId: string;

  const post = (body: unknown, token = s.admin, projectId = s.projectId) =>
    hub.call('POST', `/api/v1/projects/${projectId}/pipelines`, { token, body });
  const importYaml = (yaml: string, token = s.admin, projectId = s.projectId, contentType = 'text/yaml') =>
    hub.call('POST', `/api/v1/projects/${projectId}/pipelines/import`, { token, rawBody: yaml, contentType });
  const storyPipeline = (key: string, token = s.viewer.token) =>
    hub.call('GET', `/api/v1/stories/${items.stories[key]?.id}/pipeline`, { token });

  beforeAll(async () => {
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ engine, connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    items = await givenCalmItems(hub, s);
    tenantId = (await hub.call('GET', '/api/v1/me', { token: s.admin })).body.tenant.id;
    releaseManager = await givenUser(hub, tenantId, 'rm@example.com', {
      projectId: s.projectId,
      role: 'release_manager',
    });
    const other = await hub.call('POST', '/api/v1/projects', { token: s.admin, body: { name: 'HR' } });
    otherProjectId = other.body.id;
    const credential = async (name: string, system: string, projectId?: string) => {
      const created = await hub.call('POST', '/api/v1/credentials', {
        token: s.admin,
        body: {
          name,
          type: 'basic',
          system,
          username: 'u',
          password: 'p',
          apiUrl: 'https://remote.example.com/api',
          ...(projectId ? { projectId } : {}),
        },
      });
      expect(created.status, created.text).toBe(201);
    };
    await credential('CTMS', 'ctms');
    await credential('CPI dev', 'cloud_integration', s.projectId);
    await credential('CPI test', 'cloud_integration');
    await credential('CPI of HR', 'cloud_integration', otherProjectId);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  let releaseId: string;
  let hotfixId: string;

  it("creates a pipeline with its defaults filled in; the project's first is its default", async () => {
    const created = await post(RELEASE, releaseManager.token);
    expect(created.status, created.text).toBe(201);
    releaseId = created.body.id;
    expect(created.body).toMatchObject({
      projectId: s.projectId,
      name: 'Release',
      description: 'Development, test, production',
      isDefault: true,
      version: 1,
      stages: [
        { key: 'dev', name: 'Development' },
        { key: 'test', name: 'Test' },
        { key: 'prod', name: 'Production' },
      ],
      createdBy: releaseManager.userId,
    });
    const deploy = created.body.definition.stages[1].tasks.deploy;
    expect(deploy[1]).toEqual({
      type: 'deployment',
      name: 'Deploy iFlows',
      kind: 'cpi_deploy',
      backup: true,
      rollbackOnFailure: false,
    });
    expect(created.body.definition.stages[2].tasks.pre[1]).toMatchObject({ required: 1 });

    const hotfix = await post({
      name: 'Hotfix',
      stages: [
        { key: 'dev', name: 'Dev' },
        { key: 'prod', name: 'Prod' },
      ],
    });
    expect(hotfix.status, hotfix.text).toBe(201);
    expect(hotfix.body.isDefault).toBe(false);
    hotfixId = hotfix.body.id;

    const list = await hub.call('GET', `/api/v1/projects/${s.projectId}/pipelines`, {
      token: s.viewer.token,
    });
    expect(list.status, list.text).toBe(200);
    expect(list.body.items.map((p: { name: string; isDefault: boolean }) => [p.name, p.isDefault])).toEqual([
      ['Release', true],
      ['Hotfix', false],
    ]);
    const same = await post({ ...RELEASE, description: 'again' });
    expect(same.status).toBe(409);
    expect(same.body.error.message).toBe('The project already has a pipeline named "Release"');
  });

  it('saves every change as a new version and keeps the old ones readable', async () => {
    const updated = await hub.call('PUT', `/api/v1/pipelines/${releaseId}`, {
      token: releaseManager.token,
      body: changed('stages.1.featureStatusOnPass', 'CIPDEPLOYED'),
    });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body).toMatchObject({ version: 2, isDefault: true, updatedBy: releaseManager.userId });
    const again = await hub.call('PUT', `/api/v1/pipelines/${releaseId}`, { token: s.admin, body: RELEASE });
    expect(again.body.version).toBe(3);

    const got = await hub.call('GET', `/api/v1/pipelines/${releaseId}`, { token: s.viewer.token });
    expect(got.body).toMatchObject({ version: 3, isDefault: true, name: 'Release' });
    const versions = await hub.call('GET', `/api/v1/pipelines/${releaseId}/versions`, {
      token: s.viewer.token,
    });
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    const second = await hub.call('GET', `/api/v1/pipelines/${releaseId}/versions/2`, {
      token: s.viewer.token,
    });
    expect(second.status, second.text).toBe(200);
    expect(second.body.definition.stages[1].featureStatusOnPass).toBe('CIPDEPLOYED');
    const missing = await hub.call('GET', `/api/v1/pipelines/${releaseId}/versions/9`, { token: s.admin });
    expect(missing.status).toBe(404);

    // What the run engine reads: a version by number, with its project.
    const loaded = await loadPipelineVersion(hub.hub.deps.db, tenantId, releaseId, 2);
    expect(loaded).toMatchObject({ pipelineId: releaseId, projectId: s.projectId, version: 2 });
    expect(loaded?.definition.stages[1]?.featureStatusOnPass).toBe('CIPDEPLOYED');
    expect(await loadPipelineVersion(hub.hub.deps.db, s.otherTenant.tenantId, releaseId, 2)).toBeUndefined();

    const renamed = await hub.call('PUT', `/api/v1/pipelines/${hotfixId}`, {
      token: s.admin,
      body: { name: 'Release', stages: [{ key: 'dev', name: 'Dev' }] },
    });
    expect(renamed.status).toBe(409);
  });

  it('names the path of every schema error, and the rules beyond the schema', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        changed('stages.1.tasks.deploy.0.kind', 'ftp_upload'),
        'stages[1].tasks.deploy[0].kind must be one of ctms_import, mta_upload, cpi_deploy',
      ],
      [
        changed('stages.1.tasks.pre.0.type', 'magic'),
        'stages[1].tasks.pre[0].type must be one of approval, validation, deployment',
      ],
      [changed('stages.0.colour', 'blue'), 'stages[0].colour is not a known field'],
      [changed('stages.2.name', undefined), 'stages[2].name is required'],
      [changed('stages.1.key', 'Test'), 'stages[1].key must match ^[a-z][a-z0-9_-]{0,39}$'],
      [changed('stages', []), 'stages needs at least 1 item(s)'],
      [changed('stages.2.key', 'test'), 'stages[2].key repeats the key of stages[1]'],
      [
        changed('stages.2.targets', undefined),
        "stages[2].tasks.deploy[0].kind ctms_import needs the stage's targets.ctms (a CTMS credential and node)",
      ],
      [
        changed('stages.0.targets', undefined),
        'stages[1].tasks.deploy[1].kind cpi_deploy needs stages[0].targets.cloudIntegration (the tenant artifacts come from)',
      ],
      [
        changed('stages.1.targets.ctms.credential', 'Nope'),
        'stages[1].targets.ctms.credential names no credential of this project or tenant ("Nope")',
      ],
      [
        changed('stages.1.targets.ctms.credential', 'CPI test'),
        'stages[1].targets.ctms.credential names a cloud_integration credential; this target needs a ctms one',
      ],
      [
        changed('stages.1.targets.cloudIntegration.credential', 'CPI of HR'),
        'stages[1].targets.cloudIntegration.credential names no credential of this project or tenant ("CPI of HR")',
      ],
      [
        changed('stages.2.tasks.pre.1.roles', ['boss']),
        'stages[2].tasks.pre[1].roles[0] is not a project role',
      ],
      [
        changed('stages.2.tasks.pre.0.required', 3),
        'stages[2].tasks.pre[0].required asks for 3 approvals but names only 2 approver(s)',
      ],
      [
        changed('stages.2.tasks.pre.1.roles', undefined),
        'stages[2].tasks.pre[1] needs approvers: users, roles or both',
      ],
      [
        changed('stages.0.tasks', { pre: [{ type: 'approval', name: 'x', roles: ['admin'] }] }),
        'stages[0].tasks must be empty',
      ],
    ];
    for (const [body, message] of cases) {
      const answer = await post({ ...body, name: 'Broken' });
      expect(answer.status, message).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
      expect(answer.body.error.message).toContain(`Invalid pipeline: ${message}`);
      const [path] = message.split(' ');
      expect(answer.body.error.details[0].location).toBe(`body/${path}`);
    }
    const list = await hub.call('GET', `/api/v1/projects/${s.projectId}/pipelines`, { token: s.admin });
    expect(list.body.items.map((p: { name: string }) => p.name)).not.toContain('Broken');
  });

  it('exports YAML that imports back unchanged, and imports changes as a new version', async () => {
    const exported = await hub.call('GET', `/api/v1/pipelines/${releaseId}/export`, {
      token: s.viewer.token,
    });
    expect(exported.status, exported.text).toBe(200);
    expect(exported.headers['content-type']).toMatch(/^text\/yaml/);
    expect(exported.headers['content-disposition']).toBe('attachment; filename="release.pipeline.yaml"');
    expect(exported.text).toMatch(/^# calmhub release pipeline "Release", version 3\./);
    expect(exported.text).toContain('kind: cpi_deploy');

    const same = await importYaml(exported.text);
    expect(same.status, same.text).toBe(200);
    expect(same.body).toMatchObject({ outcome: 'unchanged', pipeline: { id: releaseId, version: 3 } });

    const edited = exported.text.replace('node: PRD', 'node: PRD2');
    const updated = await importYaml(edited, releaseManager.token, s.projectId, 'application/yaml');
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body).toMatchObject({ outcome: 'updated', pipeline: { id: releaseId, version: 4 } });
    expect(updated.body.pipeline.definition.stages[2].targets.ctms.node).toBe('PRD2');

    const older = await hub.call('GET', `/api/v1/pipelines/${releaseId}/export?version=1`, {
      token: s.admin,
    });
    expect(older.text).toContain('version 1.');

    // Another project: "CPI dev" is private to Finance, so the file names a credential HR cannot use.
    const elsewhere = await importYaml(exported.text, s.admin, otherProjectId);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.message).toMatch(
      /^Invalid pipeline: stages\[0\]\.targets\.cloudIntegration\.credential names no credential .* \(line \d+, column \d+\)$/,
    );
    const created = await importYaml(
      'name: HR flow\nstages:\n  - key: dev\n    name: Development\n  - key: prod\n    name: Production\n',
      s.admin,
      otherProjectId,
    );
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({
      outcome: 'created',
      pipeline: { name: 'HR flow', isDefault: true, version: 1 },
    });

    // JSON works too: a definition, or a string holding YAML (what the CLI sends).
    const asJsonString = await hub.call('POST', `/api/v1/projects/${otherProjectId}/pipelines/import`, {
      token: s.admin,
      body: 'name: HR flow\nstages:\n  - key: dev\n    name: Development\n',
    });
    expect(asJsonString.body).toMatchObject({ outcome: 'updated', pipeline: { version: 2 } });
  });

  it('answers YAML errors with line and column, and definition errors with path and line', async () => {
    const syntax = await importYaml('name: Broken\nstages:\n  - key: dev\n   name: Dev\n');
    expect(syntax.status).toBe(400);
    expect(syntax.body.error.message).toMatch(/^Invalid YAML at line 4, column \d+: /);
    expect(syntax.body.error.details[0]).toMatchObject({
      location: 'body',
      line: 4,
      column: expect.any(Number),
    });

    const duplicate = await importYaml('name: A\nname: B\nstages: []\n');
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error.message).toMatch(
      /^Invalid YAML at line 2, column 1: Map keys must be unique/,
    );

    const schema = await importYaml(
      [
        'name: Broken',
        'stages:',
        '  - key: dev',
        '    name: Dev',
        '  - key: test',
        '    name: Test',
        '    tasks:',
        '      deploy:',
        '        - type: deployment',
        '          name: Go',
        '          kind: teleport',
        '',
      ].join('\n'),
    );
    expect(schema.status).toBe(400);
    expect(schema.body.error.message).toBe(
      'Invalid pipeline: stages[1].tasks.deploy[0].kind must be one of ctms_import, mta_upload, cpi_deploy (line 11, column 11)',
    );
    expect(schema.body.error.details[0]).toEqual({
      location: 'body/stages[1].tasks.deploy[0].kind',
      message: 'must be one of ctms_import, mta_upload, cpi_deploy',
      line: 11,
      column: 11,
    });
    for (const text of ['', '- just\n- a list\n', 'plain text']) {
      const answer = await importYaml(text);
      expect(answer.status, text).toBe(400);
      expect(answer.body.error.message).toContain('definition must be an object');
    }
    const bomb = await importYaml(
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nname: x\nstages: [*c]\n`,
    );
    expect(bomb.status).toBe(400);
    const form = await importYaml('name=x', s.admin, s.projectId, 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
  });

  it('keeps exactly one default per project; a story follows its own pipeline, else the default', async () => {
    expect((await storyPipeline('vendor')).body).toMatchObject({
      source: 'default',
      assignedBy: null,
      pipeline: { id: releaseId, isDefault: true },
    });

    const switched = await hub.call('POST', `/api/v1/pipelines/${hotfixId}/default`, {
      token: releaseManager.token,
    });
    expect(switched.status, switched.text).toBe(200);
    expect(switched.body.isDefault).toBe(true);
    const list = await hub.call('GET', `/api/v1/projects/${s.projectId}/pipelines`, { token: s.admin });
    expect(list.body.items.map((p: { name: string; isDefault: boolean }) => [p.name, p.isDefault])).toEqual([
      ['Hotfix', true],
      ['Release', false],
    ]);
    expect((await storyPipeline('vendor')).body.pipeline.id).toBe(hotfixId);

    const assigned = await hub.call('PUT', `/api/v1/stories/${items.stories.vendor?.id}/pipeline`, {
      token: releaseManager.token,
      body: { pipelineId: releaseId },
    });
    expect(assigned.status, assigned.text).toBe(200);
    expect(assigned.body).toMatchObject({
      source: 'assigned',
      assignedBy: releaseManager.userId,
      pipeline: { id: releaseId, version: 4 },
    });
    const effective = await effectivePipeline(hub.hub.deps.db, tenantId, items.stories.vendor?.id as string);
    expect(effective).toMatchObject({
      pipelineId: releaseId,
      version: 4,
      source: 'assigned',
      name: 'Release',
    });
    expect(effective?.definition.stages.map((stage) => stage.key)).toEqual(['dev', 'test', 'prod']);
    expect(
      await effectivePipeline(hub.hub.deps.db, tenantId, items.stories.customer?.id as string),
    ).toMatchObject({
      pipelineId: hotfixId,
      source: 'default',
    });
    expect(
      await effectivePipeline(hub.hub.deps.db, s.otherTenant.tenantId, items.stories.vendor?.id as string),
    ).toBeUndefined();

    const hr = await hub.call('GET', `/api/v1/projects/${otherProjectId}/pipelines`, { token: s.admin });
    const foreign = await hub.call('PUT', `/api/v1/stories/${items.stories.vendor?.id}/pipeline`, {
      token: s.admin,
      body: { pipelineId: hr.body.items[0].id },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toBe("pipelineId names no pipeline of the story's project");

    // Deleting: not while a story follows it, not the default while others exist.
    const assignedDelete = await hub.call('DELETE', `/api/v1/pipelines/${releaseId}`, { token: s.admin });
    expect(assignedDelete.status).toBe(409);
    expect(assignedDelete.body.error.message).toContain('1 story follows pipeline "Release"');
    const reset = await hub.call('PUT', `/api/v1/stories/${items.stories.vendor?.id}/pipeline`, {
      token: s.admin,
      body: { pipelineId: null },
    });
    expect(reset.body).toMatchObject({ source: 'default', pipeline: { id: hotfixId } });
    const defaultDelete = await hub.call('DELETE', `/api/v1/pipelines/${hotfixId}`, { token: s.admin });
    expect(defaultDelete.status).toBe(409);
    expect(defaultDelete.body.error.message).toContain("is the project's default");
    const deleted = await hub.call('DELETE', `/api/v1/pipelines/${releaseId}`, { token: s.admin });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await hub.call('GET', `/api/v1/pipelines/${releaseId}`, { token: s.admin })).status).toBe(404);
    // A run that started on it keeps reading its version.
    expect(await loadPipelineVersion(hub.hub.deps.db, tenantId, releaseId, 4)).toMatchObject({ version: 4 });
    // The name is free again.
    expect((await post({ name: 'Release', stages: [{ key: 'dev', name: 'Dev' }] })).status).toBe(201);
    // The last pipeline of a project may go: HR then has none.
    const hrDelete = await hub.call('DELETE', `/api/v1/pipelines/${hr.body.items[0].id}`, { token: s.admin });
    expect(hrDelete.status).toBe(204);
  });

  it('lets every member read and only admins and release managers manage; other tenants see nothing', async () => {
    for (const token of [s.viewer.token, s.developer.token]) {
      expect((await hub.call('GET', `/api/v1/pipelines/${hotfixId}`, { token })).status).toBe(200);
      const refused = await post({ name: 'Mine', stages: [{ key: 'dev', name: 'Dev' }] }, token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain('Not allowed to pipelines.manage');
      expect((await hub.call('POST', `/api/v1/pipelines/${hotfixId}/default`, { token })).status).toBe(403);
      expect((await hub.call('DELETE', `/api/v1/pipelines/${hotfixId}`, { token })).status).toBe(403);
      expect((await importYaml('name: x\nstages: [{key: dev, name: Dev}]\n', token)).status).toBe(403);
      const assign = await hub.call('PUT', `/api/v1/stories/${items.stories.vendor?.id}/pipeline`, {
        token,
        body: { pipelineId: hotfixId },
      });
      expect(assign.status).toBe(403);
    }
    const other = s.otherTenant.adminToken;
    for (const path of [
      `/api/v1/pipelines/${hotfixId}`,
      `/api/v1/pipelines/${hotfixId}/versions`,
      `/api/v1/pipelines/${hotfixId}/versions/1`,
      `/api/v1/pipelines/${hotfixId}/export`,
      `/api/v1/projects/${s.projectId}/pipelines`,
      `/api/v1/stories/${items.stories.vendor?.id}/pipeline`,
    ])
      expect((await hub.call('GET', path, { token: other })).status, path).toBe(404);
    expect(
      (await hub.call('PUT', `/api/v1/pipelines/${hotfixId}`, { token: other, body: RELEASE })).status,
    ).toBe(404);
  });

  it('documents the routes, the definition and the YAML bodies in the OpenAPI document', async () => {
    const doc = await hub.call('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.components.schemas)).toEqual(
      expect.arrayContaining([
        'PipelineDefinition',
        'Pipeline',
        'PipelineSummary',
        'PipelineVersion',
        'StoryDependency',
      ]),
    );
    const paths = doc.body.paths;
    expect(Object.keys(paths['/api/v1/projects/{id}/pipelines/import'].post.requestBody.content)).toEqual(
      expect.arrayContaining(['text/yaml', 'application/yaml', 'application/json']),
    );
    expect(Object.keys(paths['/api/v1/pipelines/{id}/export'].get.responses['200'].content)).toEqual([
      'text/yaml',
    ]);
    expect(
      paths['/api/v1/projects/{id}/pipelines'].post.requestBody.content['application/json'].schema,
    ).toEqual({
      $ref: '#/components/schemas/PipelineDefinition',
    });
  });

  it('records every change in the audit log', async () => {
    const audit = await hub.call(
      'GET',
      `/api/v1/projects/${s.projectId}/audit?kind=pipeline.created&kind=pipeline.updated&kind=pipeline.default_changed&kind=pipeline.deleted&kind=story.pipeline_assigned&limit=100`,
      { token: s.admin },
    );
    expect(audit.status, audit.text).toBe(200);
    const kinds = audit.body.items.map((e: { kind: string }) => e.kind);
    expect(kinds.filter((k: string) => k === 'pipeline.created')).toHaveLength(3);
    expect(kinds.filter((k: string) => k === 'pipeline.updated')).toHaveLength(3);
    expect(kinds.filter((k: string) => k === 'pipeline.default_changed')).toHaveLength(1);
    expect(kinds.filter((k: string) => k === 'pipeline.deleted')).toHaveLength(1);
    expect(kinds.filter((k: string) => k === 'story.pipeline_assigned')).toHaveLength(2);
    const change = audit.body.items.find((e: { kind: string }) => e.kind === 'pipeline.default_changed');
    expect(change).toMatchObject({
      role: 'release_manager',
      object: { kind: 'pipeline', id: hotfixId, label: 'Hotfix' },
      before: { defaultPipeline: { id: releaseId, name: 'Release' } },
      after: { defaultPipeline: { id: hotfixId, name: 'Hotfix' } },
    });
  });
});
