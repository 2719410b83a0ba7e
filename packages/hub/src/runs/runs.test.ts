import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testEngines } from '@calmhub/platform/testing';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { FakeCtms } from '../connectors/ctms/fake-client.js';
import { type CalmItems, givenCalmItems } from '../testing/calm-items.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import { FAKE_SECRET, givenScenario, type Scenario, seedFakeCalm } from '../testing/scenario.js';
import { givenUser, startTestHub, type TestHub, waitForIdle } from '../testing/test-hub.js';

/** Dev → Test (approval by role, then the quality gate) → Prod (approval by name; feature status on pass). */
const PIPELINE = {
  name: 'Standard',
  stages: [
    { key: 'dev', name: 'Development' },
    {
      key: 'test',
      name: 'Quality',
      tasks: {
        pre: [
          { type: 'approval', name: 'QA approval', roles: ['approver'] },
          { type: 'validation', name: 'Quality gate', checks: ['dependencies', 'object_overlap'] },
        ],
      },
    },
    {
      key: 'prod',
      name: 'Production',
      tasks: { pre: [{ type: 'approval', name: 'Go-live', users: ['approver@example.com'] }] },
      featureStatusOnPass: 'CIPREQUDEPL',
    },
  ],
};

describe.each(testEngines)('release pipeline runs (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  let calm: FakeCloudAlm;
  let approver: { userId: string; token: string };
  let manager: { userId: string; token: string };
  let pipelineId: string;
  let ctms: FakeCtms;
  /** Serves the MTA archive a story's deliverable points at. */
  let files: Server;
  let archiveDownloads = 0;

  const call = (token: string, method: string, path: string, body?: unknown) =>
    hub.call(method, path, { token, ...(body === undefined ? {} : { body }) });
  const ok = async (token: string, method: string, path: string, body?: unknown) => {
    const answer = await call(token, method, path, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.body;
  };
  const story = (key: string) => items.stories[key]?.id as string;
  const settled = async (runId: string) => {
    await waitForIdle(hub);
    return (await ok(s.admin, 'GET', `/api/v1/runs/${runId}`)).run;
  };
  const transport = (number: string, objects: string[]) => ({
    abapTransport: {
      number,
      status: 'released',
      objects: objects.map((name) => ({ pgmid: 'R3TR', type: 'CLAS', name })),
    },
  });

  beforeAll(async () => {
    calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    ctms = new FakeCtms('ctms-secret');
    ctms.addNode('DEV', { forwardTo: ['QAS'] });
    ctms.addNode('QAS');
    files = createServer((_request, response) => {
      archiveDownloads++;
      response
        .writeHead(200, { 'content-type': 'application/octet-stream' })
        .end(Buffer.from('PK mta archive'));
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    hub = await startTestHub({ engine, connectors: fakeConnectors(calm, { ctms }) });
    s = await givenScenario(hub);
    items = await givenCalmItems(hub, s);
    const tenantId = (await ok(s.admin, 'GET', '/api/v1/me')).tenant.id;
    approver = await givenUser(hub, tenantId, 'approver@example.com', {
      projectId: s.projectId,
      role: 'approver',
    });
    manager = await givenUser(hub, tenantId, 'rm@example.com', {
      projectId: s.projectId,
      role: 'release_manager',
    });
    pipelineId = (await ok(s.admin, 'POST', `/api/v1/projects/${s.projectId}/pipelines`, PIPELINE)).id;
    // As a sync stores them: the vendor story's Cloud ALM assignee, and its feature in Cloud ALM.
    await hub.hub.deps.db
      .updateTable('hub_calm_stories')
      .set({ assignee_id: 'dev@example.com' })
      .where('id', '=', story('vendor'))
      .execute();
    calm.features.push({
      uuid: items.features.payments?.calmUuid as string,
      displayId: '6-1',
      title: 'Payment run',
      description: undefined,
      statusCode: 'CIPREQUINP',
      priorityCode: undefined,
      responsibleId: undefined,
      projectId: undefined,
      modifiedAt: Date.now(),
      raw: {},
    });
  });
  afterAll(async () => {
    await hub?.stop();
    files?.close();
  });

  it('a viewer cannot promote; the promoter and the story’s developers cannot approve; an approver can, with evidence', async () => {
    const vendor = story('vendor');
    expect((await call(s.viewer.token, 'POST', `/api/v1/stories/${vendor}/promote`, {})).status).toBe(403);
    await ok(
      manager.token,
      'POST',
      `/api/v1/stories/${vendor}/components`,
      transport('S4DK900501', ['ZCL_VENDOR']),
    );
    const started = await ok(manager.token, 'POST', `/api/v1/stories/${vendor}/promote`, {});
    expect(started).toMatchObject({ stage: 'test', fromStage: 'dev', requestedBy: 'rm@example.com' });
    const waiting = await settled(started.id);
    expect(waiting.state).toBe('waiting');
    expect(waiting.tasks.map((t: { state: string }) => t.state)).toEqual(['waiting', 'pending']);

    // The promoter (who also attached the transport) may not approve.
    const promoter = await call(manager.token, 'POST', `/api/v1/runs/${started.id}/approve`, {
      decision: 'approve',
      comment: 'mine',
    });
    expect(promoter.status).toBe(403);
    expect(promoter.body.error.message).toMatch(/segregation of duties: you promoted this story/);
    // The Cloud ALM assignee (dev@example.com), even as an approver, may not approve either.
    await ok(s.admin, 'PUT', `/api/v1/projects/${s.projectId}/members/${s.developer.userId}`, {
      role: 'approver',
    });
    const assignee = await call(s.developer.token, 'POST', `/api/v1/runs/${started.id}/approve`, {
      decision: 'approve',
      comment: 'mine too',
    });
    expect(assignee.status).toBe(403);
    expect(assignee.body.error.message).toMatch(/assigned to you in Cloud ALM/);
    // A tenant admin is no approver of a task that names the approver role only.
    expect(
      (
        await call(s.admin, 'POST', `/api/v1/runs/${started.id}/approve`, {
          decision: 'approve',
          comment: 'x',
        })
      ).status,
    ).toBe(403);

    await ok(approver.token, 'POST', `/api/v1/runs/${started.id}/approve`, {
      decision: 'approve',
      comment: 'checked',
    });
    const passed = await settled(started.id);
    expect(passed.state).toBe('passed');
    expect(passed.tasks[0].result.approvals).toMatchObject([
      { email: 'approver@example.com', role: 'approver', decision: 'approved', comment: 'checked' },
    ]);
    const audit = await ok(
      s.admin,
      'GET',
      `/api/v1/projects/${s.projectId}/audit?kind=run.approved&limit=10`,
    );
    expect(audit.items[0].after.components).toMatchObject([
      { kind: 'abap_transport', transport: 'S4DK900501' },
    ]);
    expect(
      (
        await call(approver.token, 'POST', `/api/v1/runs/${started.id}/approve`, {
          decision: 'approve',
          comment: 'again',
        })
      ).status,
    ).toBe(409);
    const status = await ok(s.viewer.token, 'GET', `/api/v1/stories/${vendor}/pipeline-status`);
    expect(status).toMatchObject({
      stage: { key: 'test' },
      state: 'passed',
      nextStage: 'prod',
      run: { id: started.id },
    });
    expect(status.stages.map((x: { state: string }) => x.state)).toEqual(['passed', 'passed', 'upcoming']);
  });

  it('the quality gate reports object overlap with another open story, and an unfinished dependency blocks it', async () => {
    const customer = story('customer');
    const balance = story('balance');
    await ok(
      s.admin,
      'POST',
      `/api/v1/stories/${customer}/components`,
      transport('S4DK900601', ['ZCL_SHARED', 'ZCL_CUSTOMER']),
    );
    await ok(
      s.admin,
      'POST',
      `/api/v1/stories/${balance}/components`,
      transport('S4DK900602', ['ZCL_SHARED']),
    );
    await ok(s.admin, 'POST', `/api/v1/stories/${customer}/dependencies`, { dependsOn: story('loose') });
    const run = await ok(manager.token, 'POST', `/api/v1/stories/${customer}/promote`, {
      targetStage: 'test',
    });
    await ok(approver.token, 'POST', `/api/v1/runs/${run.id}/approve`, {
      decision: 'approve',
      comment: 'ok',
    });
    const failed = await settled(run.id);
    expect(failed.state).toBe('failed');
    const gate = failed.tasks[1];
    expect(gate.state).toBe('failed');
    const [dependencies, overlap] = gate.result.checks;
    expect(dependencies).toMatchObject({ check: 'dependencies', passed: false });
    expect(dependencies.message).toContain('6-31');
    expect(overlap).toMatchObject({
      check: 'object_overlap',
      passed: false,
      findings: [
        {
          object: 'CLAS ZCL_SHARED',
          transport: 'S4DK900601',
          otherStory: '6-21',
          otherTransport: 'S4DK900602',
        },
      ],
    });
    // From a failed stage the story can only go into it again, not past it.
    const past = await call(manager.token, 'POST', `/api/v1/stories/${customer}/promote`, {
      targetStage: 'prod',
    });
    expect(past.status).toBe(409);
    expect(past.body.error.message).toMatch(/can move into test only/);
  });

  it('a rejection fails the run; a retry asks again; an abort stops a waiting run; promoting enters the stage again', async () => {
    const loose = story('loose');
    const run = await ok(manager.token, 'POST', `/api/v1/stories/${loose}/promote`, {});
    await ok(approver.token, 'POST', `/api/v1/runs/${run.id}/approve`, {
      decision: 'reject',
      comment: 'not yet',
    });
    const rejected = await settled(run.id);
    expect(rejected.state).toBe('failed');
    expect(rejected.tasks[0]).toMatchObject({ state: 'failed' });
    await ok(manager.token, 'POST', `/api/v1/runs/${run.id}/retry`);
    const again = await settled(run.id);
    expect(again).toMatchObject({
      state: 'waiting',
      tasks: [{ state: 'waiting', attempt: 1 }, { state: 'pending' }],
    });
    await ok(manager.token, 'POST', `/api/v1/runs/${run.id}/abort`);
    const aborted = await settled(run.id);
    expect(aborted.state).toBe('aborted');
    expect(aborted.tasks.map((t: { state: string }) => t.state)).toEqual(['aborted', 'aborted']);
    expect((await call(manager.token, 'POST', `/api/v1/runs/${run.id}/retry`)).status).toBe(409);
    const next = await ok(manager.token, 'POST', `/api/v1/stories/${loose}/promote`, {});
    expect(next).toMatchObject({ stage: 'test', fromStage: 'test' });
    await ok(manager.token, 'POST', `/api/v1/runs/${next.id}/abort`);
  });

  it('a run keeps the pipeline version it started with; production passing sets the mapped feature status', async () => {
    const vendor = story('vendor');
    const run = await ok(manager.token, 'POST', `/api/v1/stories/${vendor}/promote`, {});
    expect(run).toMatchObject({ stage: 'prod', pipelineVersion: 1 });
    const changed = structuredClone(PIPELINE);
    (changed.stages[2] as { name: string }).name = 'Go-live';
    await ok(s.admin, 'PUT', `/api/v1/pipelines/${pipelineId}`, changed);
    await ok(approver.token, 'POST', `/api/v1/runs/${run.id}/approve`, {
      decision: 'approve',
      comment: 'go',
    });
    const passed = await settled(run.id);
    expect(passed).toMatchObject({ state: 'passed', pipelineVersion: 1 });
    const feature = calm.features.find((f) => f.uuid === items.features.payments?.calmUuid);
    expect(feature?.statusCode).toBe('CIPREQUDEPL');
    const { timeline } = await ok(s.admin, 'GET', `/api/v1/runs/${run.id}`);
    expect(timeline.map((e: { message: string }) => e.message).join('\n')).toMatch(/set to CIPREQUDEPL/);
    expect((await call(manager.token, 'POST', `/api/v1/stories/${vendor}/promote`, {})).status).toBe(409);
  });

  it('streams the project’s run events (server-sent events), from the start or after an id', async () => {
    const all = await hub.call('GET', `/api/v1/projects/${s.projectId}/run-events?follow=false`, {
      token: s.viewer.token,
    });
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toMatch(/text\/event-stream/);
    const events = all.text
      .split('\n\n')
      .filter(Boolean)
      .map((block) =>
        JSON.parse(
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))
            ?.slice(6) ?? '{}',
        ),
      );
    expect(events.length).toBeGreaterThan(5);
    const lastId = events.at(-1).id;

    // Live: a new promotion shows up on an open stream.
    const response = await request(`${hub.url}/api/v1/projects/${s.projectId}/run-events`, {
      headers: { authorization: `Bearer ${s.viewer.token}`, 'last-event-id': String(lastId) },
    });
    const received: string[] = [];
    const reading = (async () => {
      for await (const chunk of response.body) {
        received.push(String(chunk));
        if (received.join('').includes('"state":"running"')) break;
      }
    })();
    const balance = story('balance');
    const run = await ok(manager.token, 'POST', `/api/v1/stories/${balance}/promote`, {});
    await reading;
    const live = received.join('');
    expect(live).toContain(run.id);
    expect(live).not.toContain(`id: ${lastId}\n`);
    response.body.destroy();
    await ok(manager.token, 'POST', `/api/v1/runs/${run.id}/abort`);
  });

  it('uploads an MTA archive attached to the story into the node, imports it and keeps the log', async () => {
    await ok(s.admin, 'POST', '/api/v1/credentials', {
      name: 'CTMS',
      type: 'oauth2_client_credentials',
      system: 'ctms',
      tokenUrl: 'https://ctms.authentication.eu10.hana.ondemand.com/oauth/token',
      clientId: 'sb-ctms',
      clientSecret: 'ctms-secret',
      apiUrl: 'https://transport-service-app-backend.ts.cfapps.eu10.hana.ondemand.com',
    });
    const btp = await ok(s.admin, 'POST', `/api/v1/projects/${s.projectId}/pipelines`, {
      name: 'BTP apps',
      stages: [
        { key: 'dev', name: 'Development', targets: { ctms: { credential: 'CTMS', node: 'DEV' } } },
        {
          key: 'test',
          name: 'Quality',
          targets: { ctms: { credential: 'CTMS', node: 'QAS' } },
          tasks: { deploy: [{ type: 'deployment', name: 'Deploy the MTA', kind: 'mta_upload' }] },
        },
      ],
    });
    const balance = story('balance');
    await ok(s.admin, 'PUT', `/api/v1/stories/${balance}/pipeline`, { pipelineId: btp.id });
    const port = (files.address() as AddressInfo).port;
    await ok(s.admin, 'POST', `/api/v1/stories/${balance}/components`, {
      deliverable: { name: 'finance-app.mtar', url: `http://127.0.0.1:${port}/finance-app_1.2.0.mtar` },
    });
    const run = await ok(manager.token, 'POST', `/api/v1/stories/${balance}/promote`, {});
    const passed = await settled(run.id);
    expect(passed.state, JSON.stringify(passed.tasks)).toBe('passed');
    const [task] = passed.tasks;
    expect(task.result).toMatchObject({
      node: 'QAS',
      requests: [{ label: 'finance-app.mtar', status: 'succeeded' }],
    });
    expect(task.log.some((l: { message: string }) => l.message.includes('Uploaded finance-app.mtar'))).toBe(
      true,
    );
    expect(archiveDownloads).toBe(1);
    expect(ctms.files).toMatchObject([{ fileName: 'finance-app.mtar', namedUser: 'rm@example.com' }]);
    const requestId = task.result.requests[0].requestId;
    expect(ctms.statusIn('QAS', requestId)).toBe('succeeded');
  });
});
