import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Credentials = {
  apiUrl: string;
  workflowInstancesUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
};
type Instance = Record<string, unknown> & { id: string; status: string };

describe.each(testEngines)('SAP Build Process Automation emulator (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let build: Credentials;
  let bearer: string;

  const call = (path: string, init: RequestInit & { json?: unknown; auth?: string } = {}) => {
    const { json: body, auth, ...rest } = init;
    const headers: Record<string, string> = { accept: 'application/json', authorization: auth ?? bearer };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${build.workflowInstancesUrl}${path}`, {
      ...rest,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store });
    build = await json<Credentials>(await h.admin('/sap-build/credentials'));
    const token = await fetch(build.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: build.clientId,
        client_secret: build.clientSecret,
      }).toString(),
    });
    expect(token.status).toBe(200);
    const body = await json<{ access_token: string; token_type: string; expires_in: number }>(token);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 43199 });
    bearer = `Bearer ${body.access_token}`;
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('refuses bad clients and missing tokens', async () => {
    const basic = Buffer.from(`${build.clientId}:wrong`).toString('base64');
    const refused = await fetch(build.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(refused.status).toBe(401);
    expect(await json(refused)).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' });
    const anonymous = await call('', { auth: '' });
    expect(anonymous.status).toBe(401);
    expect(await json(anonymous)).toEqual({ error: { message: 'Unauthorized' } });
    expect(h.sandbox.endpoints).toMatchObject({ 'SAP Build OAuth token': build.tokenUrl });
  });

  it('starts, reads, completes and cancels workflow instances', async () => {
    const started = await call('?environmentId=ignored', {
      method: 'POST',
      json: { definitionId: 'eu10.calm-demo.workflow', context: { featureId: 'F-1' }, businessKey: 'F-1' },
    });
    expect(started.status, await started.clone().text()).toBe(201);
    const instance = await json<Instance>(started);
    expect(Object.keys(instance).sort()).toEqual(
      [
        'id',
        'definitionId',
        'definitionVersion',
        'subject',
        'status',
        'businessKey',
        'parentInstanceId',
        'rootInstanceId',
        'applicationScope',
        'projectId',
        'projectVersion',
        'startedAt',
        'startedBy',
        'completedAt',
      ].sort(),
    );
    expect(instance).toMatchObject({
      definitionId: 'eu10.calm-demo.workflow',
      subject: 'workflow',
      projectId: 'calm-demo',
      status: 'RUNNING',
      businessKey: 'F-1',
      rootInstanceId: instance.id,
      parentInstanceId: null,
      startedBy: build.clientId,
      completedAt: null,
    });
    expect(await json(await call(`/${instance.id}`))).toEqual(instance);
    expect(await json(await call(`/${instance.id}/outputs`))).toEqual({});
    expect(await json(await call(`/${instance.id}/context`))).toEqual({ featureId: 'F-1' });

    const outputs = {
      workflowId: instance.id,
      decision: 'approve',
      approvers: 'anna',
      workflowStatus: 'COMPLETED',
    };
    const completed = await h.admin(`/sap-build/instances/${instance.id}/complete`, {
      method: 'POST',
      json: { outputs },
    });
    expect(completed.status).toBe(200);
    expect(await json(await call(`/${instance.id}/outputs`))).toEqual(outputs);
    const done = await json<Instance>(await call(`/${instance.id}`));
    expect(done.status).toBe('COMPLETED');
    expect(typeof done.completedAt).toBe('string');
    const late = await call(`/${instance.id}`, { method: 'PATCH', json: { status: 'CANCELED' } });
    expect(late.status).toBe(409);

    const second = await json<Instance>(
      await call('', { method: 'POST', json: { definitionId: 'eu10.calm-demo.workflow' } }),
    );
    const canceled = await call(`/${second.id}`, {
      method: 'PATCH',
      json: { status: 'CANCELED', cascade: false },
    });
    expect(canceled.status).toBe(204);
    expect((await json<Instance>(await call(`/${second.id}`))).status).toBe('CANCELED');

    const missing = await call('/nope');
    expect(missing.status).toBe(404);
    expect((await call('/%00')).status).toBe(404);
    // What PostgreSQL cannot store is the client's mistake, not a 500.
    for (const body of [
      { definitionId: 'a\u0000', context: {} },
      { definitionId: 'a', context: { note: 'x\u0000' } },
      { definitionId: 'a', context: { '\ud800': 1 } },
    ]) {
      const refused = await call('', { method: 'POST', json: body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(await json(refused)).toMatchObject({
        error: { message: expect.stringContaining('cannot be stored') },
      });
    }
    expect(await json(missing)).toEqual({ error: { message: "Workflow instance 'nope' not found" } });
    const invalid = await call('', { method: 'POST', json: { context: {} } });
    expect(invalid.status).toBe(400);
  });

  it("answers malformed credentials with 401/400 in the token endpoint's shape, never a 500", async () => {
    const token = (body: string, authorization?: string) =>
      fetch(build.tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(authorization ? { authorization } : {}),
        },
        body,
      });
    const basic = (raw: string) => `Basic ${Buffer.from(raw).toString('base64')}`;
    for (const raw of ['a%zz:b', `${build.clientId}:%E0%A4%A`, `${build.clientId}:%`]) {
      const response = await token('grant_type=client_credentials', basic(raw));
      expect(response.status, raw).toBe(401);
      expect(await response.json()).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' });
    }
    const encoded = basic(`${encodeURIComponent(build.clientId)}:${encodeURIComponent(build.clientSecret)}`);
    expect((await token('grant_type=client_credentials', encoded)).status).toBe(200);
    const repeated = await token(
      `grant_type=client_credentials&client_id=${encodeURIComponent(build.clientId)}&client_secret=a&client_secret=b`,
    );
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toMatchObject({ error: 'invalid_request' });
  });
});
