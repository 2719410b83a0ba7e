import { testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { FakeCloudIntegration } from '../connectors/cloud-integration/fake-client.js';
import { FakeCtms } from '../connectors/ctms/fake-client.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import { FAKE_SECRET, givenScenario, type Scenario, seedFakeCalm } from '../testing/scenario.js';
import { startTestHub, type TestHub } from '../testing/test-hub.js';

describe.each(testEngines)('Credential Manager (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let connectors: ReturnType<typeof fakeConnectors>;
  const post = (path: string, body?: unknown, token = s.admin) => hub.call('POST', path, { token, body });

  beforeAll(async () => {
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    const ctms = new FakeCtms(FAKE_SECRET);
    ctms.addNode('QAS');
    connectors = fakeConnectors(calm, { ctms, cloudIntegration: new FakeCloudIntegration(FAKE_SECRET) });
    hub = await startTestHub({ engine, connectors });
    s = await givenScenario(hub);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('registers a Cloud ALM credential from client id, secret and URL: token URL = URL + /oauth/token, secret masked', async () => {
    const created = await post('/api/v1/credentials', {
      name: 'Register Credential',
      clientId: 'sb-abc!b1|calm!b2',
      clientSecret: 'very-secret',
      url: 'https://sub.authentication.eu10.hana.ondemand.com/',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      type: 'cloud_alm',
      scope: 'tenant',
      projectId: null,
      secret: '********',
      settings: {
        clientId: 'sb-abc!b1|calm!b2',
        url: 'https://sub.authentication.eu10.hana.ondemand.com',
        tokenUrl: 'https://sub.authentication.eu10.hana.ondemand.com/oauth/token',
      },
    });
    expect(created.text).not.toContain('very-secret');
  });

  it('reads a pasted BTP service key, object or text, flat or with uaa', async () => {
    const key = {
      uaa: {
        clientid: 'sb-key',
        clientsecret: 'key-secret',
        url: 'https://x.authentication.eu10.hana.ondemand.com',
      },
      endpoints: { Api: 'https://x.eu10.alm.cloud.sap/api' },
    };
    const asText = await post('/api/v1/credentials', {
      name: 'Key as text',
      serviceKey: JSON.stringify(key),
    });
    expect(asText.body.settings).toMatchObject({
      clientId: 'sb-key',
      apiUrl: 'https://x.eu10.alm.cloud.sap/api',
    });
    const flat = await post('/api/v1/credentials', { name: 'Flat key', serviceKey: key.uaa });
    expect(flat.status).toBe(201);
    expect(flat.body.settings.apiUrl).toBeUndefined();
  });

  const ctmsKey = {
    uaa: {
      clientid: 'sb-ctms!b41230|transport!b2',
      clientsecret: FAKE_SECRET,
      url: 'https://sub.authentication.eu10.hana.ondemand.com/',
    },
    uri: 'https://transport-service-app-backend.ts.cfapps.eu10.hana.ondemand.com',
  };
  const cpiKey = (url: string) => ({
    oauth: {
      clientid: 'sb-cpi',
      clientsecret: FAKE_SECRET,
      url,
      tokenurl: 'https://sub.authentication.eu10.hana.ondemand.com/oauth/token',
      createdate: '2026-01-01',
    },
  });

  it('reads a pasted CTMS service key as an OAuth client of system ctms: apiUrl = uri, token URL = uaa.url + /oauth/token', async () => {
    const inferred = await post('/api/v1/credentials', { name: 'CTMS key', serviceKey: ctmsKey });
    expect(inferred.status, inferred.text).toBe(201);
    expect(inferred.body).toMatchObject({
      type: 'oauth2_client_credentials',
      system: 'ctms',
      secret: '********',
      settings: {
        clientId: 'sb-ctms!b41230|transport!b2',
        apiUrl: 'https://transport-service-app-backend.ts.cfapps.eu10.hana.ondemand.com',
        tokenUrl: 'https://sub.authentication.eu10.hana.ondemand.com/oauth/token',
      },
    });
    expect(inferred.text).not.toContain(FAKE_SECRET);
    const explicit = await post('/api/v1/credentials', {
      name: 'CTMS key as text',
      type: 'oauth2_client_credentials',
      system: 'ctms',
      serviceKey: JSON.stringify(ctmsKey),
    });
    expect(explicit.status, explicit.text).toBe(201);
    expect(explicit.body.settings).toEqual(inferred.body.settings);
    const tested = await post(`/api/v1/credentials/${inferred.body.id}/test`);
    expect(tested.body).toMatchObject({
      ok: true,
      message: 'Token received; 1 transport node(s) visible to this client.',
    });
  });

  it('reads a pasted Cloud Integration key: apiUrl = oauth.url + /api/v1 (unless it ends so), token URL = oauth.tokenurl', async () => {
    const created = await post('/api/v1/credentials', {
      name: 'CPI key',
      serviceKey: cpiKey('https://acme.it-cpi018.cfapps.eu10-003.hana.ondemand.com/'),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      type: 'oauth2_client_credentials',
      system: 'cloud_integration',
      settings: {
        clientId: 'sb-cpi',
        apiUrl: 'https://acme.it-cpi018.cfapps.eu10-003.hana.ondemand.com/api/v1',
        tokenUrl: 'https://sub.authentication.eu10.hana.ondemand.com/oauth/token',
      },
    });
    const already = await post('/api/v1/credentials', {
      name: 'CPI key with api path',
      type: 'oauth2_client_credentials',
      serviceKey: cpiKey('https://acme.it-cpi018.cfapps.eu10-003.hana.ondemand.com/api/v1'),
    });
    expect(already.body.settings.apiUrl).toBe(
      'https://acme.it-cpi018.cfapps.eu10-003.hana.ondemand.com/api/v1',
    );
    const tested = await post(`/api/v1/credentials/${created.body.id}/test`);
    expect(tested.body).toMatchObject({
      ok: true,
      check: 'fake token, then GET /IntegrationPackages?$top=1',
    });
    const wrongKind = await post(`/api/v1/credentials/${created.body.id}/rotate`, { serviceKey: ctmsKey });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.message).toMatch(/^serviceKey is a Cloud Transport Management service key/);
  });

  it('takes Basic credentials for Cloud Integration with the API URL, tested against it', async () => {
    const created = await post('/api/v1/credentials', {
      name: 'CPI basic',
      type: 'basic',
      system: 'cloud_integration',
      apiUrl: 'https://acme-tmn.hci.eu1.hana.ondemand.com/',
      username: 'deployer',
      password: FAKE_SECRET,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      type: 'basic',
      system: 'cloud_integration',
      settings: { username: 'deployer', apiUrl: 'https://acme-tmn.hci.eu1.hana.ondemand.com/api/v1' },
    });
    expect((await post(`/api/v1/credentials/${created.body.id}/test`)).body.ok).toBe(true);
    const edited = await hub.call('PATCH', `/api/v1/credentials/${created.body.id}`, {
      token: s.admin,
      body: { settings: { apiUrl: 'https://other-tmn.hci.eu1.hana.ondemand.com' } },
    });
    expect(edited.body.settings.apiUrl).toBe('https://other-tmn.hci.eu1.hana.ondemand.com/api/v1');
  });

  it('names the field when a CTMS or Cloud Integration credential is incomplete or contradicts its key', async () => {
    const { tokenurl: _tokenurl, ...withoutTokenUrl } = cpiKey('https://acme.example').oauth;
    const cases: Array<[unknown, string]> = [
      [{ name: 'b', serviceKey: { oauth: withoutTokenUrl } }, 'serviceKey.oauth.tokenurl'],
      [{ name: 'b', serviceKey: cpiKey('ftp://acme.example') }, 'serviceKey.oauth.url'],
      [{ name: 'b', serviceKey: { ...ctmsKey, uri: 'not a url' } }, 'serviceKey.uri'],
      [{ name: 'b', type: 'cloud_alm', serviceKey: ctmsKey }, 'type'],
      [{ name: 'b', system: 'cloud_integration', serviceKey: ctmsKey }, 'serviceKey'],
      [
        {
          name: 'b',
          type: 'oauth2_client_credentials',
          system: 'ctms',
          clientId: 'x',
          clientSecret: 'leak-me',
          tokenUrl: 'https://x.example/oauth/token',
        },
        'apiUrl',
      ],
      [
        { name: 'b', type: 'basic', system: 'cloud_integration', username: 'u', password: 'leak-me' },
        'apiUrl',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await post('/api/v1/credentials', body);
      expect(response.status, response.text).toBe(400);
      expect(response.body.error.message.startsWith(`${field} `), response.text).toBe(true);
      expect(response.text).not.toContain('leak-me');
      expect(response.text).not.toContain(FAKE_SECRET);
    }
  });

  it('names the field in every validation error, and never echoes a secret', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'a', clientId: 'x', clientSecret: 'y' }, 'url'],
      [{ name: 'a', clientSecret: 'y', url: 'https://x' }, 'clientId'],
      [{ name: 'a', clientId: 'x', url: 'https://x' }, 'clientSecret'],
      [{ name: 'a', serviceKey: '{"uaa": {"clientid": "x", "clientsecret": "leak-me"' }, 'serviceKey'],
      [
        { name: 'a', serviceKey: { uaa: { clientid: 'x', url: 'https://x' } } },
        'serviceKey.uaa.clientsecret',
      ],
      [
        { name: 'a', serviceKey: { uaa: { clientid: 'x', clientsecret: 'y', url: 'ftp://x' } } },
        'serviceKey.uaa.url',
      ],
      [{ name: 'a', type: 'basic', username: 'u' }, 'password'],
      [{ name: 'a', type: 'basic', username: 'u', password: 'p', clientSecret: 'z' }, 'clientSecret'],
      [{ name: 'a', type: 'oauth2_client_credentials', clientId: 'x', clientSecret: 'y' }, 'tokenUrl'],
      [
        { name: 'a', type: 'cloud_alm', system: 'ctms', clientId: 'x', clientSecret: 'y', url: 'https://x' },
        'system',
      ],
    ];
    for (const [body, field] of cases) {
      const response = await post('/api/v1/credentials', body);
      expect(response.status, response.text).toBe(400);
      expect(response.body.error.message.startsWith(`${field} `), response.text).toBe(true);
      expect(response.text).not.toContain('leak-me');
    }
  });

  it('keeps project credentials private to the project; global ones are for tenant admins to manage', async () => {
    const list = await hub.call('GET', '/api/v1/credentials', { token: s.developer.token });
    const names = list.body.items.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['Cloud ALM (global)', 'Cloud ALM (project)']));
    const edit = await hub.call('PATCH', `/api/v1/credentials/${s.globalCredentialId}`, {
      token: s.developer.token,
      body: { name: 'mine now' },
    });
    expect(edit.status).toBe(403);
    expect(edit.body.error.message).toContain('credentials.manage_global');
    const outsider = await hub.call('POST', '/api/v1/users', {
      token: s.admin,
      body: { email: 'outsider@example.com' },
    });
    const { token } = (await post('/api/v1/tokens', { name: 'o', userId: outsider.body.id })).body;
    const seen = await hub.call('GET', '/api/v1/credentials', { token });
    expect(seen.body.items.map((c: { name: string }) => c.name)).not.toContain('Cloud ALM (project)');
    expect((await hub.call('GET', `/api/v1/credentials/${s.projectCredentialId}`, { token })).status).toBe(
      404,
    );
  });

  it('tests a credential: success, or the remote error verbatim, kept as the last test', async () => {
    const ok = await post(`/api/v1/credentials/${s.globalCredentialId}/test`);
    expect(ok.body).toMatchObject({
      ok: true,
      message: 'Token received; 1 Cloud ALM project(s) visible to this client.',
    });
    const wrong = await post('/api/v1/credentials', {
      name: 'Wrong secret',
      clientId: 'x',
      clientSecret: 'wrong',
      url: 'https://x.example',
    });
    const failed = await post(`/api/v1/credentials/${wrong.body.id}/test`);
    expect(failed.body).toMatchObject({
      ok: false,
      remoteStatus: 401,
      message: 'Token service answered 401: Bad credentials',
    });
    const after = await hub.call('GET', `/api/v1/credentials/${wrong.body.id}`, { token: s.admin });
    expect(after.body.lastTest).toMatchObject({ ok: false, remoteStatus: 401 });
  });

  it('rotates the secret: cached tokens are dropped and the new secret is used', async () => {
    const wrong = await post('/api/v1/credentials', {
      name: 'To rotate',
      clientId: 'x',
      clientSecret: 'old-wrong',
      url: 'https://x.example',
    });
    expect((await post(`/api/v1/credentials/${wrong.body.id}/test`)).body.ok).toBe(false);
    const rotated = await post(`/api/v1/credentials/${wrong.body.id}/rotate`, { clientSecret: FAKE_SECRET });
    expect(rotated.status).toBe(200);
    expect(rotated.body.rotatedAt).not.toBeNull();
    expect(connectors.forgotten).toContain(wrong.body.id);
    expect((await post(`/api/v1/credentials/${wrong.body.id}/test`)).body.ok).toBe(true);
  });

  it('refuses to delete a credential an integration uses, and deletes an unused one', async () => {
    const used = await hub.call('DELETE', `/api/v1/credentials/${s.globalCredentialId}`, { token: s.admin });
    expect(used.status).toBe(409);
    expect(used.body.error.message).toContain('Cloud ALM');
    const spare = await post('/api/v1/credentials', {
      name: 'Spare',
      type: 'basic',
      username: 'u',
      password: 'p',
    });
    expect(
      (await hub.call('DELETE', `/api/v1/credentials/${spare.body.id}`, { token: s.admin })).status,
    ).toBe(204);
    expect((await hub.call('GET', `/api/v1/credentials/${spare.body.id}`, { token: s.admin })).status).toBe(
      404,
    );
  });

  it('stores secrets sealed: the database holds no secret in clear', async () => {
    const rows = await hub.hub.deps.db.selectFrom('hub_credentials').selectAll().execute();
    for (const row of rows) {
      expect(JSON.stringify(row)).not.toContain(FAKE_SECRET);
      expect(row.secret_sealed).toMatch(/^v1\./);
    }
  });
});
