import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HttpCloudAlmClient } from '@calmhub/hub';
import { cloudAlmClientContract, startTestHub, type TestHub } from '@calmhub/hub/testing';
import { TokenCache } from '@calmhub/platform';
import { testEngines } from '@calmhub/platform/testing';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The sandbox's admin API: test set-up only, never called by the hub. */
async function admin<T>(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<T> {
  const response = await request(`${sandbox.url}/admin${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${sandbox.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function calmProjects(sandbox: Sandbox): Promise<Array<{ id: string; name: string }>> {
  const key = sandbox.serviceKey;
  const token = await request(`${key.uaa.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: key.uaa.clientid,
      client_secret: key.uaa.clientsecret,
    }).toString(),
  });
  const { access_token } = (await token.body.json()) as { access_token: string };
  const list = await request(`${key.endpoints.Api}/calm-projects/v1/projects`, {
    headers: { authorization: `Bearer ${access_token}` },
  });
  return (await list.body.json()) as Array<{ id: string; name: string }>;
}

cloudAlmClientContract('HTTP client against the sandbox', async () => {
  const sandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
  const key = sandbox.serviceKey;
  const context = { tokens: new TokenCache(), timeoutMs: 10_000, now: () => Date.now() };
  const credential = (secret: string) => ({
    id: 'contract',
    version: secret.length,
    type: 'cloud_alm' as const,
    system: 'cloud_alm' as const,
    settings: {
      clientId: key.uaa.clientid,
      tokenUrl: `${key.uaa.url}/oauth/token`,
      apiUrl: key.endpoints.Api,
    },
    secret: { clientSecret: secret },
  });
  const [known] = await calmProjects(sandbox);
  return {
    client: new HttpCloudAlmClient(context, credential(key.uaa.clientsecret), key.endpoints.Api),
    wrongSecret: new HttpCloudAlmClient(context, credential('wrong-secret'), key.endpoints.Api),
    known: known as { id: string; name: string },
    cleanup: () => sandbox.stop(),
  };
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe.each(testEngines)('hub with a sandbox Cloud ALM, over HTTP (%s)', (engine) => {
  let sandbox: Sandbox;
  let hub: TestHub;
  let token: string;
  let projectId: string;
  const responses: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await hub.call(method, path, { token, body });
    responses.push(response.text);
    return response;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
    hub = await startTestHub({
      engine,
      config: { logLevel: 'trace', publicUrl: 'https://calmhub.example.com' },
    });
    token = hub.adminToken;
    projectId = (await call('POST', '/api/v1/projects', { name: 'S/4HANA Finance' })).body.id;
  });
  afterAll(async () => {
    await hub?.stop();
    await sandbox?.stop();
  });

  it("registers the sandbox's service key as pasted, tests it, and reports a wrong secret with the sandbox's 401 text", async () => {
    const created = await call('POST', '/api/v1/credentials', {
      name: 'Cloud ALM sandbox',
      serviceKey: JSON.stringify(sandbox.serviceKey),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      type: 'cloud_alm',
      system: 'cloud_alm',
      secret: '********',
      settings: {
        clientId: sandbox.serviceKey.uaa.clientid,
        url: sandbox.serviceKey.uaa.url,
        tokenUrl: `${sandbox.serviceKey.uaa.url}/oauth/token`,
        apiUrl: sandbox.serviceKey.endpoints.Api,
      },
    });
    const tested = await call('POST', `/api/v1/credentials/${created.body.id}/test`);
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ ok: true });
    expect(tested.body.message).toMatch(/2 Cloud ALM project\(s\) visible/);

    const wrong = await call('POST', '/api/v1/credentials', {
      name: 'Cloud ALM wrong secret',
      clientId: sandbox.serviceKey.uaa.clientid,
      clientSecret: 'not-the-secret',
      url: sandbox.serviceKey.uaa.url,
    });
    const failed = await call('POST', `/api/v1/credentials/${wrong.body.id}/test`);
    expect(failed.body).toMatchObject({ ok: false, remoteStatus: 401 });
    expect(failed.body.message).toContain('Bad credentials');
    // The outcome is kept on the credential.
    expect((await call('GET', `/api/v1/credentials/${wrong.body.id}`)).body.lastTest).toMatchObject({
      ok: false,
    });
  });

  it('creates an integration with the Cloud ALM project picked from the live list, and shows its webhook URL', async () => {
    const credentials = await call('GET', '/api/v1/credentials');
    const credential = credentials.body.items.find((c: { name: string }) => c.name === 'Cloud ALM sandbox');
    const picker = await call(
      'GET',
      `/api/v1/projects/${projectId}/calm-projects?credentialId=${credential.id}`,
    );
    expect(picker.status, picker.text).toBe(200);
    expect(picker.body.note).toBeNull();
    const live = await calmProjects(sandbox);
    expect(picker.body.items.map((p: { id: string }) => p.id).sort()).toEqual(live.map((p) => p.id).sort());
    const picked = picker.body.items.find(
      (p: { name: string }) => p.name === 'S/4HANA Finance Transformation',
    );

    const created = await call('POST', `/api/v1/projects/${projectId}/integrations`, {
      name: 'Cloud ALM',
      description: 'Finance features',
      credentialId: credential.id,
      calmProjectId: picked.id,
    });
    expect(created.status, created.text).toBe(201);
    const integration = created.body;
    expect(integration).toMatchObject({
      externalSystem: 'SAP_CLOUD_ALM',
      hostUrl: sandbox.serviceKey.endpoints.Api,
      calmProject: { id: picked.id, name: 'S/4HANA Finance Transformation' },
      enabled: true,
    });
    const me = await call('GET', '/api/v1/me');
    const secretKey = integration.webhook.secretKey as string;
    expect(secretKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(integration.webhook.path).toBe(
      `ratesaptms/webhook/tenant/${me.body.tenant.id}/project/${projectId}/calm/pmsint/${integration.id}/sync?secretKey=${secretKey}`,
    );
    expect(integration.webhook.url).toBe(`https://calmhub.example.com/${integration.webhook.path}`);

    // Same name twice in a project: refused, naming the field.
    const again = await call('POST', `/api/v1/projects/${projectId}/integrations`, {
      name: 'Cloud ALM',
      credentialId: credential.id,
      calmProjectId: picked.id,
    });
    expect(again.status).toBe(409);
    expect(again.body.error.details).toEqual({ field: 'name' });
    // A project id Cloud ALM does not know: 400 naming calmProjectId.
    const unknown = await call('POST', `/api/v1/projects/${projectId}/integrations`, {
      name: 'Typed id',
      credentialId: credential.id,
      calmProjectId: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/^calmProjectId /);
    // Rotating the key changes the URL; the old key is gone.
    const rotated = await call('POST', `/api/v1/integrations/${integration.id}/webhook/rotate`);
    expect(rotated.body.secretKey).not.toBe(secretKey);
  });

  it('offers to type the project id when the client sees no project, and checks the typed id', async () => {
    const restricted = await admin<{
      uaa: { clientid: string; clientsecret: string; url: string };
      endpoints: { Api: string };
    }>(sandbox, 'POST', '/clients', { name: 'no projects', projectIds: [] });
    const credential = await call('POST', '/api/v1/credentials', {
      name: 'Restricted client',
      serviceKey: restricted,
    });
    const picker = await call(
      'GET',
      `/api/v1/projects/${projectId}/calm-projects?credentialId=${credential.body.id}`,
    );
    expect(picker.body.items).toEqual([]);
    expect(picker.body.note).toMatch(/Type the project id/);
    const [live] = await calmProjects(sandbox);
    const typed = await call('POST', `/api/v1/projects/${projectId}/integrations`, {
      name: 'Restricted',
      credentialId: credential.body.id,
      calmProjectId: live?.id,
    });
    expect(typed.status).toBe(400);
    expect(typed.body.error.message).toMatch(/calmProjectId names no Cloud ALM project visible/);
  });

  it('keeps every secret out of API answers, log lines and files, with logging at trace level', async () => {
    const basicPassword = `basic-password-${Math.random().toString(36).slice(2)}`;
    const rotatedSecret = `rotated-secret-${Math.random().toString(36).slice(2)}`;
    const basic = await call('POST', '/api/v1/credentials', {
      name: 'ServiceNow basic',
      type: 'basic',
      system: 'servicenow',
      username: 'calmhub',
      password: basicPassword,
      url: `${sandbox.url}/servicenow/api/now/table/incident?sysparm_limit=1`,
    });
    await call('POST', `/api/v1/credentials/${basic.body.id}/test`);
    const oauth = await call('POST', '/api/v1/credentials', {
      name: 'Generic OAuth',
      type: 'oauth2_client_credentials',
      tokenUrl: `${sandbox.url}/oauth/token`,
      clientId: sandbox.serviceKey.uaa.clientid,
      clientSecret: sandbox.serviceKey.uaa.clientsecret,
    });
    await call('POST', `/api/v1/credentials/${oauth.body.id}/test`);
    await call('POST', `/api/v1/credentials/${oauth.body.id}/rotate`, { clientSecret: rotatedSecret });
    await call('POST', `/api/v1/credentials/${oauth.body.id}/test`);
    for (const c of (await call('GET', '/api/v1/credentials')).body.items)
      await call('GET', `/api/v1/credentials/${c.id}`);

    const secrets = [sandbox.serviceKey.uaa.clientsecret, basicPassword, rotatedSecret];
    expect(hub.logLines.length).toBeGreaterThan(20);
    expect(hub.logLines.some((line) => line.includes('"level":10'))).toBe(true);
    const files = filesUnder(hub.dataDir);
    expect(files.some((file) => file.endsWith('calmhub.sqlite') || file.endsWith('admin-token'))).toBe(true);
    for (const secret of secrets) {
      for (const text of responses) expect(text.includes(secret), `API answer holds ${secret}`).toBe(false);
      for (const line of hub.logLines)
        expect(line.includes(secret), `log line holds ${secret}: ${line}`).toBe(false);
      for (const line of hub.logLines)
        expect(line, 'a bearer token in the log').not.toMatch(/Bearer\s+[A-Za-z0-9]/);
      for (const file of files) {
        expect(readFileSync(file).includes(Buffer.from(secret)), `${file} holds ${secret}`).toBe(false);
      }
    }
  });
});
