import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets, startSandbox } from '../app/start-sandbox.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import type { CpiServiceKey } from './keys.js';
import { buildIflowZip } from './zip.js';

type Entity = Record<string, unknown>;
type One = { d: Entity };
type Many = { d: { results: Entity[] } };

const artifact = (id: string, version = 'active') =>
  `/IntegrationDesigntimeArtifacts(Id='${id}',Version='${version}')`;

describe.each(testEngines)('Cloud Integration OData v2 emulator on %s', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let key: CpiServiceKey;
  let api: string;
  let bearer: string;
  let basic: string;

  /** A Basic-auth session: fetches the CSRF token and keeps every Set-Cookie, as the reference describes. */
  async function session(authorization = basic): Promise<{ token: string; cookie: string }> {
    const response = await fetch(`${api}/IntegrationPackages`, {
      headers: { authorization, 'x-csrf-token': 'Fetch', accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    const token = response.headers.get('x-csrf-token');
    expect(token).toBeTruthy();
    const cookie = response.headers
      .getSetCookie()
      .map((value) => value.split(';')[0])
      .join('; ');
    expect(cookie).toMatch(/^JSESSIONID=/);
    return { token: token as string, cookie };
  }

  function cpi(
    path: string,
    init: RequestInit & { json?: unknown; auth?: string; csrf?: { token: string; cookie: string } } = {},
  ) {
    const { json: body, auth, csrf, ...rest } = init;
    const headers: Record<string, string> = { accept: 'application/json' };
    const authorization = auth ?? `Bearer ${bearer}`;
    if (authorization) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (csrf) {
      headers['x-csrf-token'] = csrf.token;
      headers.cookie = csrf.cookie;
    }
    return fetch(`${api}${path}`, {
      ...rest,
      headers: { ...headers, ...(rest.headers as Record<string, string> | undefined) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async function pollDeploy(taskId: string, auth?: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await cpi(`/BuildAndDeployStatus(TaskId='${taskId}')`, auth ? { auth } : {});
      expect(response.status).toBe(200);
      const status = String((await json<One>(response)).d.Status);
      if (status !== 'DEPLOYING' || Date.now() > deadline) return status;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
    key = await json<CpiServiceKey>(await h.admin('/cpi/service-key'));
    api = `${key.oauth.url}/api/v1`;
    const tokenResponse = await fetch(key.oauth.tokenurl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${key.oauth.clientid}:${key.oauth.clientsecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    bearer = ((await tokenResponse.json()) as { access_token: string }).access_token;
    basic = `Basic ${Buffer.from(`${key.oauth.clientid}:${key.oauth.clientsecret}`).toString('base64')}`;
    const patched = await h.admin('/cpi/settings', { method: 'PATCH', json: { deployDurationMs: 50 } });
    expect(patched.status).toBe(200);
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('hands out an api-plan service key whose url is the tenant host', () => {
    expect(key.oauth.url).toBe(`${h.sandbox.url}/cpi`);
    expect(key.oauth.tokenurl).toBe(`${h.sandbox.url}/oauth/token`);
    expect(h.sandbox.endpoints['Cloud Integration API']).toBe(`${h.sandbox.url}/cpi/api/v1`);
  });

  it('lists the seeded packages and artifacts in OData v2 envelopes', async () => {
    const packages = await json<Many>(await cpi('/IntegrationPackages'));
    const finance = packages.d.results.find((pkg) => pkg.Id === 'S4HANAFinanceTransformation');
    expect(finance).toMatchObject({
      Name: 'S/4HANA Finance Transformation',
      Version: '1.0.0',
      Mode: 'EDIT_ALLOWED',
      __metadata: { type: 'com.sap.hci.api.IntegrationPackage' },
    });
    for (const field of [
      'Description',
      'ShortText',
      'Vendor',
      'SupportedPlatform',
      'CreationDate',
      'CreatedBy',
    ]) {
      expect(finance).toHaveProperty(field);
    }
    const one = await json<One>(await cpi("/IntegrationPackages('S4HANAFinanceTransformation')"));
    expect(one.d.Id).toBe('S4HANAFinanceTransformation');
    const flows = await json<Many>(
      await cpi("/IntegrationPackages('S4HANAFinanceTransformation')/IntegrationDesigntimeArtifacts"),
    );
    expect(flows.d.results.map((flow) => flow.Id)).toContain('ELSTER_UStVA_Submission');
    const errors = await json<Many>(
      await cpi(`/IntegrationRuntimeArtifacts?$filter=${encodeURIComponent("Status eq 'ERROR'")}`),
    );
    expect(errors.d.results.map((runtime) => runtime.Id)).toEqual(['IC_Reconciliation_Partner_Feed']);
  });

  it('gets an artifact by Id and Version and downloads it as a zip', async () => {
    const active = await cpi(artifact('Bank_Statement_CAMT053_Inbound'));
    expect(active.status).toBe(200);
    expect((await json<One>(active)).d).toMatchObject({
      Version: '1.0.3',
      PackageId: 'S4HANAFinanceTransformation',
    });
    expect((await cpi(artifact('Bank_Statement_CAMT053_Inbound', '1.0.3'))).status).toBe(200);
    expect((await cpi(artifact('Bank_Statement_CAMT053_Inbound', '9.9.9'))).status).toBe(404);
    expect((await cpi(artifact('Missing_Flow'))).status).toBe(404);

    const download = await cpi(`${artifact('Bank_Statement_CAMT053_Inbound')}/$value`, {
      headers: { accept: 'application/zip' },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain('Bank_Statement_CAMT053_Inbound.zip');
    const files = unzipSync(new Uint8Array(await download.arrayBuffer()));
    expect(strFromU8(files['META-INF/MANIFEST.MF'] as Uint8Array)).toContain('Bundle-Version: 1.0.3');
  });

  it('updates with Basic auth and CSRF, deploys and polls the status to SUCCESS', async () => {
    const csrf = await session();
    const content = Buffer.from(
      buildIflowZip({
        id: 'Bank_Statement_CAMT053_Inbound',
        name: 'Bank statement CAMT.053 import',
        version: '1.0.4',
        parameters: { SenderAddress: '/bank/camt053', S4Destination: 'S4P_BANK', PollingInterval: '5' },
      }),
    ).toString('base64');
    const updated = await cpi(artifact('Bank_Statement_CAMT053_Inbound'), {
      method: 'PUT',
      auth: basic,
      csrf,
      json: { Name: 'Bank statement CAMT.053 import', ArtifactContent: content },
    });
    expect(updated.status).toBe(200);
    const after = await json<One>(await cpi(artifact('Bank_Statement_CAMT053_Inbound')));
    expect(after.d.Version).toBe('1.0.4');
    const configurations = await json<Many>(
      await cpi(`${artifact('Bank_Statement_CAMT053_Inbound')}/Configurations`),
    );
    expect(configurations.d.results).toContainEqual(
      expect.objectContaining({
        ParameterKey: 'PollingInterval',
        ParameterValue: '5',
        DataType: 'xsd:string',
      }),
    );

    const deploy = await cpi(
      "/DeployIntegrationDesigntimeArtifact?Id='Bank_Statement_CAMT053_Inbound'&Version='active'",
      {
        method: 'POST',
        auth: basic,
        csrf,
      },
    );
    expect(deploy.status).toBe(202);
    const taskId = await deploy.text();
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await pollDeploy(taskId, basic)).toBe('SUCCESS');
    const runtime = await json<One>(
      await cpi("/IntegrationRuntimeArtifacts('Bank_Statement_CAMT053_Inbound')"),
    );
    expect(runtime.d).toMatchObject({ Version: '1.0.4', Status: 'STARTED', Type: 'INTEGRATION_FLOW' });
    expect(String(runtime.d.DeployedOn)).toMatch(/^\/Date\(\d+\)\/$/);
  });

  it('refuses modifying Basic-auth calls without the CSRF token or its session cookie', async () => {
    const csrf = await session();
    const body = { Name: 'renamed' };
    for (const attempt of [
      {},
      { headers: { 'x-csrf-token': csrf.token } },
      { headers: { cookie: csrf.cookie } },
      { csrf: { token: 'wrong', cookie: csrf.cookie } },
    ]) {
      const response = await cpi(artifact('ELSTER_UStVA_Submission'), {
        method: 'PUT',
        auth: basic,
        json: body,
        ...attempt,
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-csrf-token')).toBe('Required');
      expect(await response.text()).toBe('CSRF token validation failed');
    }
    const deploy = await cpi(
      "/DeployIntegrationDesigntimeArtifact?Id='ELSTER_UStVA_Submission'&Version='active'",
      {
        method: 'POST',
        auth: basic,
      },
    );
    expect(deploy.status).toBe(403);

    // A session belongs to its user: another user's token and cookie do not count.
    const user = await json<{ name: string; password: string }>(
      await h.admin('/cpi/users', { method: 'POST', json: { name: 'deployer' } }),
    );
    const userAuth = `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}`;
    const foreign = await cpi(artifact('ELSTER_UStVA_Submission'), {
      method: 'PUT',
      auth: userAuth,
      json: body,
      csrf,
    });
    expect(foreign.status).toBe(403);
    const own = await session(userAuth);
    const allowed = await cpi(artifact('ELSTER_UStVA_Submission'), {
      method: 'PUT',
      auth: userAuth,
      json: body,
      csrf: own,
    });
    expect(allowed.status).toBe(200);
    // OAuth callers are stateless: no CSRF token needed (Piper's deploy step relies on it).
    const oauth = await cpi(artifact('ELSTER_UStVA_Submission'), {
      method: 'PUT',
      json: { Name: 'ELSTER advance return submission (UStVA)' },
    });
    expect(oauth.status).toBe(200);
  });

  it('ends a deployment marked to fail in FAIL with its error text readable', async () => {
    const marked = await h.admin('/cpi/artifacts/Dunning_Email_Output/deploy-failure', {
      method: 'PUT',
      json: { message: 'Adapter Mail: connection to smtp.example.invalid:587 refused' },
    });
    expect(marked.status).toBe(200);
    const deploy = await cpi(
      "/DeployIntegrationDesigntimeArtifact?Id='Dunning_Email_Output'&Version='active'",
      {
        method: 'POST',
      },
    );
    expect(deploy.status).toBe(202);
    expect(await pollDeploy(await deploy.text())).toBe('FAIL');
    const runtime = await json<One>(await cpi("/IntegrationRuntimeArtifacts('Dunning_Email_Output')"));
    expect(runtime.d.Status).toBe('ERROR');
    const error = await cpi("/IntegrationRuntimeArtifacts('Dunning_Email_Output')/ErrorInformation/$value");
    expect(error.status).toBe(200);
    expect(await error.text()).toBe('Adapter Mail: connection to smtp.example.invalid:587 refused');

    await h.admin('/cpi/artifacts/Dunning_Email_Output/deploy-failure', { method: 'DELETE' });
    const again = await cpi(
      "/DeployIntegrationDesigntimeArtifact?Id='Dunning_Email_Output'&Version='active'",
      {
        method: 'POST',
      },
    );
    expect(await pollDeploy(await again.text())).toBe('SUCCESS');
    expect(
      (await cpi("/IntegrationRuntimeArtifacts('Dunning_Email_Output')/ErrorInformation/$value")).status,
    ).toBe(404);
  });

  it('creates packages and artifacts, updates a parameter, deletes and undeploys', async () => {
    const pkg = await cpi('/IntegrationPackages', {
      method: 'POST',
      json: { Id: 'HubPipelineTest', Name: 'Hub pipeline test', ShortText: 'Created by a test' },
    });
    expect(pkg.status).toBe(201);
    expect((await json<One>(pkg)).d).toMatchObject({ Id: 'HubPipelineTest', Version: '1.0.0' });
    expect(
      (await cpi('/IntegrationPackages', { method: 'POST', json: { Id: 'HubPipelineTest', Name: 'x' } }))
        .status,
    ).toBe(409);

    const content = Buffer.from(
      buildIflowZip({ id: 'Hub_Flow', name: 'Hub flow', version: '1.0.0', parameters: { Target: 'a' } }),
    ).toString('base64');
    const created = await cpi('/IntegrationDesigntimeArtifacts', {
      method: 'POST',
      json: { Name: 'Hub flow', Id: 'Hub_Flow', PackageId: 'HubPipelineTest', ArtifactContent: content },
    });
    expect(created.status).toBe(201);
    expect((await json<One>(created)).d).toMatchObject({
      Id: 'Hub_Flow',
      Version: '1.0.0',
      PackageId: 'HubPipelineTest',
    });
    const parameter = await cpi(`${artifact('Hub_Flow')}/Configurations('Target')`, {
      method: 'PUT',
      json: { ParameterValue: 'b', DataType: 'xsd:string' },
    });
    expect(parameter.status).toBe(202);
    const configurations = await json<Many>(await cpi(`${artifact('Hub_Flow')}/Configurations`));
    expect(configurations.d.results[0]).toMatchObject({ ParameterKey: 'Target', ParameterValue: 'b' });
    expect(
      (
        await cpi(`${artifact('Hub_Flow')}/Configurations('Nope')`, {
          method: 'PUT',
          json: { ParameterValue: 'x' },
        })
      ).status,
    ).toBe(404);

    expect((await cpi(artifact('Hub_Flow'), { method: 'DELETE' })).status).toBe(200);
    expect((await cpi(artifact('Hub_Flow'))).status).toBe(404);

    expect(
      (await cpi("/IntegrationRuntimeArtifacts('SF_Employee_Replication')", { method: 'DELETE' })).status,
    ).toBe(202);
    expect((await cpi("/IntegrationRuntimeArtifacts('SF_Employee_Replication')")).status).toBe(404);
  });

  it('answers bad input and missing authorisation with 4xx in the OData v2 error shape', async () => {
    const missing = await cpi('/NoSuchEntity');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      error: { code: 'Not Found', message: { lang: 'en', value: expect.any(String) } },
    });
    const notZip = await cpi('/IntegrationDesigntimeArtifacts', {
      method: 'POST',
      json: {
        Name: 'x',
        Id: 'X_Flow',
        PackageId: 'S4HANAFinanceTransformation',
        ArtifactContent: 'bm90IGEgemlw',
      },
    });
    expect(notZip.status).toBe(400);
    expect(
      (
        await cpi('/IntegrationDesigntimeArtifacts', {
          method: 'POST',
          json: { Name: 'x', Id: 'X_Flow', PackageId: 'S4HANAFinanceTransformation', ArtifactContent: '%%%' },
        })
      ).status,
    ).toBe(400);
    expect(
      (await cpi('/IntegrationDesigntimeArtifacts', { method: 'POST', json: { Name: 'x' } })).status,
    ).toBe(400);
    expect((await cpi("/IntegrationDesigntimeArtifacts(Id='X')")).status).toBe(400);
    expect((await cpi('/IntegrationDesigntimeArtifacts(Id=X,Version=active)')).status).toBe(400);
    expect(
      (await cpi(`/IntegrationRuntimeArtifacts?$filter=${encodeURIComponent("Status ne 'ERROR'")}`)).status,
    ).toBe(400);
    expect((await cpi('/DeployIntegrationDesigntimeArtifact', { method: 'POST' })).status).toBe(400);
    expect(
      (await cpi("/DeployIntegrationDesigntimeArtifact?Id='Nope'&Version='active'", { method: 'POST' }))
        .status,
    ).toBe(404);
    expect((await cpi("/BuildAndDeployStatus(TaskId='nope')")).status).toBe(404);
    expect(
      (
        await cpi('/IntegrationPackages', {
          method: 'POST',
          body: '{',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    expect((await cpi('/IntegrationPackages', { method: 'DELETE' })).status).toBe(405);
    expect((await cpi('/%E0%A4%A')).status).toBe(400);
    expect((await cpi("/IntegrationPackages('a%00b')")).status).toBe(400);
    expect(
      (await cpi(`/IntegrationRuntimeArtifacts?$filter=${encodeURIComponent("Id eq 'a\u0000'")}`)).status,
    ).toBe(400);
    expect(
      (await cpi('/IntegrationPackages', { method: 'POST', json: { Id: 'Ok_Id', Name: 'a\u0000' } })).status,
    ).toBe(400);

    const anonymous = await cpi('/IntegrationPackages', { auth: '' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    expect(
      (await cpi('/IntegrationPackages', { auth: `Basic ${Buffer.from('x:y').toString('base64')}` })).status,
    ).toBe(401);
    expect((await cpi('/IntegrationPackages', { auth: `Bearer ${h.token}` })).status).toBe(403);

    const reader = await json<CpiServiceKey>(
      await h.admin('/cpi/clients', {
        method: 'POST',
        json: { name: 'reader', scopes: ['cpi.WorkspacePackagesRead'] },
      }),
    );
    const readerBasic = `Basic ${Buffer.from(`${reader.oauth.clientid}:${reader.oauth.clientsecret}`).toString('base64')}`;
    expect((await cpi('/IntegrationPackages', { auth: readerBasic })).status).toBe(200);
    const csrf = await session(readerBasic);
    const denied = await cpi(
      "/DeployIntegrationDesigntimeArtifact?Id='ELSTER_UStVA_Submission'&Version='active'",
      {
        method: 'POST',
        auth: readerBasic,
        csrf,
      },
    );
    expect(denied.status).toBe(403);
    expect((await json<{ error: { code: string } }>(denied)).error.code).toBe('Forbidden');

    expect((await fetch(`${h.sandbox.url}/admin/cpi/settings`)).status).toBe(401);
    expect(
      (
        await fetch(`${h.sandbox.url}/admin/cpi/settings`, {
          headers: { authorization: 'Bearer wrong-token' },
        })
      ).status,
    ).toBe(401);
  });

  it('applies fault rules to /cpi paths', async () => {
    await h.admin('/faults', {
      method: 'PUT',
      json: [{ path: '/cpi/api/v1/*', kind: 'status', status: 503, retryAfterSeconds: 2, limit: 1 }],
    });
    const failed = await cpi('/IntegrationPackages');
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('2');
    expect((await json<{ error: { code: string } }>(failed)).error.code).toBe('Service Unavailable');
    expect((await cpi('/IntegrationPackages')).status).toBe(200);
    await h.admin('/faults', { method: 'DELETE' });
  });
});

describe('Cloud Integration service key file', () => {
  it('writes cpi-service-key.json into the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-cpi-'));
    try {
      const sandbox = await startSandbox({ port: 0, dataDir: dir, logLevel: 'silent' });
      const path = sandbox.files['cpi-service-key.json'] as string;
      const key = JSON.parse(readFileSync(path, 'utf8')) as CpiServiceKey;
      expect(key.oauth.url).toBe(`${sandbox.url}/cpi`);
      await sandbox.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
