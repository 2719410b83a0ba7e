import {
  buildIflowArchive,
  type CloudIntegrationServiceKeyFields,
  cloudIntegrationClientFromServiceKey,
  startTestHub,
  type TestHub,
} from '@calmhub/hub/testing';
import { testEngines } from '@calmhub/platform/testing';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calmApi, FINANCE, pushFeaturesTo, sandboxAdmin, until } from './helpers.js';

/**
 * Release pipelines end to end over HTTP with two sandboxes: the first is Cloud ALM, CTMS and the
 * development Cloud Integration tenant; the second is the quality Cloud Integration tenant.
 */
const PIPELINE = `
name: Standard
description: Development, then Quality through CTMS and Cloud Integration
stages:
  - key: dev
    name: Development
    targets:
      ctms: { credential: CTMS, node: DEV }
      cloudIntegration: { credential: CPI development }
  - key: test
    name: Quality
    targets:
      ctms: { credential: CTMS, node: QAS }
      cloudIntegration: { credential: CPI quality }
    tasks:
      pre:
        - type: approval
          name: Quality approval
          roles: [approver]
        - type: validation
          name: Quality gate
      deploy:
        - type: deployment
          name: Import transports
          kind: ctms_import
        - type: deployment
          name: Deploy integration flows
          kind: cpi_deploy
          rollbackOnFailure: true
`;

describe.each(testEngines)('release pipelines with CTMS and Cloud Integration, end to end (%s)', (engine) => {
  let calmSandbox: Sandbox;
  let qualitySandbox: Sandbox;
  let hub: TestHub;
  let projectId: string;
  let approver: string;
  let developer: string;
  let viewer: string;
  let calm: Awaited<ReturnType<typeof calmApi>>;
  const admin = (sandbox: Sandbox, method: string, path: string, body?: unknown) =>
    sandboxAdmin(sandbox, method, path, body);
  const call = (method: string, path: string, token: string, body?: unknown) =>
    hub.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  const api = async (method: string, path: string, body?: unknown, token = hub.adminToken) => {
    const answer = await call(method, path, token, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.body;
  };
  const cpiKeys: {
    development?: CloudIntegrationServiceKeyFields;
    quality?: CloudIntegrationServiceKeyFields;
  } = {};
  const quality = () =>
    cloudIntegrationClientFromServiceKey(cpiKeys.quality as CloudIntegrationServiceKeyFields);
  const development = () =>
    cloudIntegrationClientFromServiceKey(cpiKeys.development as CloudIntegrationServiceKeyFields);

  const featureByTitle = async (title: string) => {
    const features = (await calm('GET', `/calm-features/v1/Features?$filter=projectId eq ${FINANCE}`))
      .value as Array<{ uuid: string; title: string }>;
    return features.find((f) => f.title === title) as { uuid: string; title: string };
  };
  const storiesOf = (featureUuid: string) =>
    hub.hub.deps.db
      .selectFrom('hub_calm_stories')
      .select(['id', 'calm_id', 'title'])
      .where('feature_calm_uuid', '=', featureUuid)
      .orderBy('calm_id')
      .execute();
  const commentsOf = async (taskId: string) =>
    ((await calm('GET', `/calm-tasks/v1/tasks/${taskId}/comments`)) as Array<{ text: string }>).filter((c) =>
      c.text.includes('[calmhub:'),
    );
  const latestRun = async (storyId: string) =>
    (await api('GET', `/api/v1/runs?storyId=${storyId}&limit=1`)).items[0];
  const runInState = (storyId: string, states: string[], timeoutMs = 30_000) =>
    until(
      `a run of ${storyId} in ${states.join('/')}`,
      async () => {
        const run = await latestRun(storyId);
        return run && states.includes(run.state) && run;
      },
      timeoutMs,
    );
  /** A transport of the first sandbox's S4D system, on a feature, released: CTMS queues it in QAS. */
  const releasedTransport = async (
    featureUuid: string,
    number: string,
    objects: Array<{ type: string; name: string }>,
  ) => {
    const transport = await admin(calmSandbox, 'POST', '/transports', {
      transportId: number,
      description: `Change ${number}`,
      sourceSystem: 'S4D',
      targetSystem: 'S4Q',
      objects,
    });
    await admin(calmSandbox, 'POST', `/features/${featureUuid}/transports`, {
      transportUuid: transport.uuid,
    });
    return transport as { uuid: string };
  };
  const queueEntry = async (number: string) =>
    until(`${number} in CTMS`, async () => {
      const requests = (await admin(calmSandbox, 'GET', '/ctms/transport-requests')) as Array<{
        id: number;
        entries?: Array<{ uri: string }>;
        queues?: Array<{ nodeName: string; status: string }>;
      }>;
      return requests.find((r) => r.entries?.some((e) => e.uri === number));
    });

  beforeAll(async () => {
    calmSandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
    qualitySandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
    for (const sandbox of [calmSandbox, qualitySandbox]) {
      await admin(sandbox, 'PATCH', '/ctms/settings', { importDurationMs: 100 });
      await admin(sandbox, 'PATCH', '/cpi/settings', { deployDurationMs: 100 });
    }
    calm = await calmApi(calmSandbox);
    hub = await startTestHub({ engine, config: { syncDeltaIntervalMs: 86_400_000 } });
    const project = await api('POST', '/api/v1/projects', { name: 'Finance' });
    projectId = project.id;
    const me = await api('GET', '/api/v1/me');
    const member = async (email: string, role: string) => {
      const user = await api('POST', '/api/v1/users', { email, name: email });
      await api('PUT', `/api/v1/projects/${projectId}/members/${user.id}`, { role });
      return (await api('POST', '/api/v1/tokens', { name: 'e2e', userId: user.id })).token as string;
    };
    approver = await member('approver@example.com', 'approver');
    developer = await member('developer@example.com', 'developer');
    viewer = await member('viewer@example.com', 'viewer');
    expect(me.tenant.id).toBeTruthy();

    const cloudAlm = await api('POST', '/api/v1/credentials', {
      name: 'Cloud ALM',
      serviceKey: calmSandbox.serviceKey,
    });
    cpiKeys.development = await admin(calmSandbox, 'GET', '/cpi/service-key');
    cpiKeys.quality = await admin(qualitySandbox, 'GET', '/cpi/service-key');
    const ctmsKey = await admin(calmSandbox, 'GET', '/ctms/service-key');
    await api('POST', '/api/v1/credentials', { name: 'CTMS', serviceKey: ctmsKey });
    await api('POST', '/api/v1/credentials', { name: 'CPI development', serviceKey: cpiKeys.development });
    await api('POST', '/api/v1/credentials', { name: 'CPI quality', serviceKey: cpiKeys.quality });
    const integration = await api('POST', `/api/v1/projects/${projectId}/integrations`, {
      name: 'Cloud ALM',
      credentialId: cloudAlm.id,
      calmProjectId: FINANCE,
    });
    const sync = await api('POST', `/api/v1/integrations/${integration.id}/sync`, { mode: 'full' });
    await until(
      'the first sync',
      async () => (await api('GET', `/api/v1/sync-runs/${sync.id}`)).state === 'succeeded',
    );
    const imported = await hub.call('POST', `/api/v1/projects/${projectId}/pipelines/import`, {
      token: hub.adminToken,
      rawBody: PIPELINE,
      contentType: 'text/yaml',
    });
    expect(imported.status, imported.text).toBeLessThan(300);
    const webhook = await api('GET', `/api/v1/integrations/${integration.id}/webhook`);
    await pushFeaturesTo(calmSandbox, hub.url, webhook.path);
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await calmSandbox?.stop();
    await qualitySandbox?.stop();
  });

  it("a released transport and Handover to Test run the feature's stories into Quality: approval, validation, CTMS import, Cloud Integration deploy", async () => {
    const feature = await featureByTitle('Close periods');
    const stories = await storiesOf(feature.uuid);
    expect(stories.length).toBeGreaterThan(0);
    const story = stories[0] as (typeof stories)[number];
    // The developer attaches the transport (its objects come from Cloud ALM) and an integration flow.
    const flow = 'Group_Reporting_Flexible_Upload';
    await api(
      'POST',
      `/api/v1/stories/${story.id}/components`,
      { abapTransport: { number: 'S4DK900121' } },
      developer,
    );
    await api(
      'POST',
      `/api/v1/stories/${story.id}/components`,
      { cpiArtifact: { packageId: 'S4HANAFinanceTransformation', artifactId: flow } },
      developer,
    );
    const transports = (await admin(calmSandbox, 'GET', '/transports')) as Array<{
      uuid: string;
      transportId: string;
    }>;
    const transport = transports.find((t) => t.transportId === 'S4DK900121') as { uuid: string };
    await admin(calmSandbox, 'POST', `/transports/${transport.uuid}/release`);
    await queueEntry('S4DK900121');

    expect((await call('POST', `/api/v1/stories/${story.id}/promote`, viewer, {})).status).toBe(403);
    await admin(calmSandbox, 'POST', `/features/${feature.uuid}/actions/handover-to-test`);
    const waiting = await runInState(story.id, ['waiting']);
    expect(waiting).toMatchObject({ stage: 'test', fromStage: 'dev', requestedBy: 'Cloud ALM' });

    // Segregation of duties: the developer who attached the components may not approve.
    const selfApproval = await call('POST', `/api/v1/runs/${waiting.id}/approve`, developer, {
      decision: 'approve',
      comment: 'looks fine to me',
    });
    expect(selfApproval.status).toBe(403);
    expect(selfApproval.body.error.code).toBe('forbidden');
    await api(
      'POST',
      `/api/v1/runs/${waiting.id}/approve`,
      { decision: 'approve', comment: 'tested in DEV' },
      approver,
    );
    // The feature's other stories wait for their approval too.
    for (const other of stories.slice(1)) {
      const run = await runInState(other.id, ['waiting']);
      await api('POST', `/api/v1/runs/${run.id}/approve`, { decision: 'approve', comment: 'ok' }, approver);
    }
    const passed = await runInState(story.id, ['passed', 'failed'], 60_000);
    const { run, timeline } = await api('GET', `/api/v1/runs/${passed.id}`);
    expect(
      run.state,
      JSON.stringify(
        run.tasks.map((t: { name: string; state: string; log: unknown }) => [t.name, t.state, t.log]),
      ),
    ).toBe('passed');
    const [approval, validation, ctms, cpi] = run.tasks;
    expect(approval.result.approvals).toMatchObject([
      { email: 'approver@example.com', decision: 'approved' },
    ]);
    expect(validation.state).toBe('passed');
    expect(ctms.result.requests).toMatchObject([{ label: 'S4DK900121', status: 'succeeded' }]);
    expect(ctms.result.log.some((line: string) => line.includes('Imported object'))).toBe(true);
    expect(cpi.result.artifacts).toMatchObject([{ artifactId: flow, runtimeStatus: 'STARTED' }]);
    expect(timeline.map((e: { state: string }) => e.state)).toContain('passed');

    // The sandboxes agree: imported into QAS, deployed and started on the quality tenant.
    const entry = await queueEntry('S4DK900121');
    expect(JSON.stringify(entry)).toMatch(/QAS/);
    const runtime = await quality().runtimeArtifact(flow);
    expect(runtime?.status).toBe('STARTED');

    // Every comment once; stage started, deployments, stage passed.
    await waitForComments(story.calm_id, [
      'started',
      'imported into QAS',
      'deployed to CPI quality',
      'Quality passed',
    ]);
    const comments = await commentsOf(story.calm_id);
    const markers = comments.flatMap((c) => c.text.match(/\[calmhub:[0-9a-f]+\]/g) ?? []);
    expect(new Set(markers).size).toBe(markers.length);

    const status = await api('GET', `/api/v1/stories/${story.id}/pipeline-status`);
    expect(status).toMatchObject({ stage: { key: 'test' }, state: 'passed' });
    const audit = await api('GET', '/api/v1/audit?limit=500');
    const kinds = new Set((audit.items as Array<{ kind: string }>).map((e) => e.kind));
    for (const kind of [
      'promotion.requested',
      'run.started',
      'run.task_waiting',
      'run.approved',
      'run.task_passed',
      'run.passed',
      'writeback.written',
    ])
      expect(kinds, kind).toContain(kind);
  }, 120_000);

  async function waitForComments(calmId: string, phrases: string[]) {
    await until(
      `comments ${phrases.join(', ')}`,
      async () => {
        const texts = (await commentsOf(calmId)).map((c) => c.text);
        return phrases.every((p) => texts.some((t) => t.includes(p))) && texts;
      },
      30_000,
    );
  }

  it('a failing import fails the task with the CTMS log text; a retry after the fix imports it', async () => {
    const feature = await featureByTitle('Dunning by e-mail');
    const [story] = await storiesOf(feature.uuid);
    if (!story) throw new Error('no story');
    await releasedTransport(feature.uuid, 'S4DK900881', [{ type: 'PROG', name: 'ZFI_DUNNING_881' }]);
    await api(
      'POST',
      `/api/v1/stories/${story.id}/components`,
      { abapTransport: { number: 'S4DK900881' } },
      developer,
    );
    const transport = (
      (await admin(calmSandbox, 'GET', '/transports')) as Array<{ uuid: string; transportId: string }>
    ).find((t) => t.transportId === 'S4DK900881') as { uuid: string };
    await admin(calmSandbox, 'POST', `/transports/${transport.uuid}/release`);
    const request = await queueEntry('S4DK900881');
    await admin(calmSandbox, 'PUT', `/ctms/transport-requests/${request.id}/import-failure`, {
      status: 'error',
      message: 'Program ZFI_DUNNING_881: syntax error in line 12',
    });

    const started = await api('POST', `/api/v1/stories/${story.id}/promote`, {});
    expect(started.stage).toBe('test');
    await api(
      'POST',
      `/api/v1/runs/${(await runInState(story.id, ['waiting'])).id}/approve`,
      { decision: 'approve', comment: 'go' },
      approver,
    );
    const failed = await runInState(story.id, ['failed', 'passed'], 60_000);
    expect(failed.state).toBe('failed');
    const ctms = failed.tasks.find((t: { type: string; name: string }) => t.name === 'Import transports');
    expect(ctms.state).toBe('failed');
    expect(JSON.stringify(ctms.result)).toContain('syntax error in line 12');

    await admin(calmSandbox, 'DELETE', `/ctms/transport-requests/${request.id}/import-failure`);
    await api('POST', `/api/v1/runs/${failed.id}/retry`);
    const passed = await runInState(story.id, ['passed', 'failed'], 60_000);
    expect(passed.state, JSON.stringify(passed.tasks)).toBe('passed');
    const retried = passed.tasks.find((t: { name: string }) => t.name === 'Import transports');
    expect(retried.attempt).toBe(1);
    expect(retried.log.some((l: { message: string }) => l.message.includes('Reset'))).toBe(true);
  }, 120_000);

  it('a failing Cloud Integration deploy rolls back: the previous version keeps running', async () => {
    const flow = 'ELSTER_UStVA_Submission';
    const before = await quality().runtimeArtifact(flow);
    expect(before?.status).toBe('STARTED');
    // A new version in development, which fails to deploy on the quality tenant.
    const dev = development();
    const current = await dev.getArtifact(flow);
    await dev.updateArtifact({
      id: flow,
      name: current?.name ?? flow,
      content: buildIflowArchive({ id: flow, name: current?.name ?? flow, version: '9.0.0' }),
    });
    await admin(qualitySandbox, 'PUT', `/cpi/artifacts/${flow}/deploy-failure`, {
      message: 'Adapter ELSTER: certificate not found',
      version: '9.0.0',
    });
    const feature = await featureByTitle('Tax reporting for Germany');
    const [story] = await storiesOf(feature.uuid);
    if (!story) throw new Error('no story');
    await api(
      'POST',
      `/api/v1/stories/${story.id}/components`,
      { cpiArtifact: { packageId: 'S4HANAFinanceTransformation', artifactId: flow } },
      developer,
    );
    await api('POST', `/api/v1/stories/${story.id}/promote`, {});
    await api(
      'POST',
      `/api/v1/runs/${(await runInState(story.id, ['waiting'])).id}/approve`,
      { decision: 'approve', comment: 'go' },
      approver,
    );
    const failed = await runInState(story.id, ['failed', 'passed'], 60_000);
    expect(failed.state).toBe('failed');
    const cpi = failed.tasks.find((t: { name: string }) => t.name === 'Deploy integration flows');
    expect(cpi.result.artifacts[0]).toMatchObject({
      artifactId: flow,
      ok: false,
      rollback: { ok: true, runtimeStatus: 'STARTED' },
    });
    expect(JSON.stringify(cpi.result)).toContain('certificate not found');
    const after = await quality().runtimeArtifact(flow);
    expect(after).toMatchObject({ status: 'STARTED', version: before?.version });
  }, 120_000);
});
