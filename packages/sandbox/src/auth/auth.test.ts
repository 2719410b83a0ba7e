import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

let h: Harness;
let clock = Date.parse('2026-03-01T10:00:00Z');

beforeAll(async () => {
  h = await startHarness({ seed: 'demo', now: () => clock, settings: { tokenLifetimeSeconds: 600 } });
});
afterAll(() => h.stop());

const key = () => h.sandbox.serviceKey;
const basic = () =>
  `Basic ${Buffer.from(`${key().uaa.clientid}:${key().uaa.clientsecret}`).toString('base64')}`;

describe('POST /oauth/token (XSUAA client credentials)', () => {
  it('accepts HTTP Basic credentials and answers an XSUAA token response', async () => {
    const response = await fetch(`${key().uaa.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(200);
    const body = await json<{
      access_token: string;
      token_type: string;
      expires_in: number;
      scope: string;
      jti: string;
    }>(response);
    expect(body.token_type).toBe('bearer');
    expect(body.expires_in).toBe(600);
    expect(body.scope.split(' ')).toContain('sapcloudalm-sandbox!b16907.calm-api.features.write');
    const claims = decodeJwt(body.access_token);
    expect(claims.client_id).toBe(key().uaa.clientid);
    expect(claims.scope).toContain('sapcloudalm-sandbox!b16907.calm-api.tasks.read');
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
  });

  it('accepts client_id/client_secret as form fields (secrets with $ and = survive encoding)', async () => {
    expect(key().uaa.clientsecret).toMatch(/\$.*=$/);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: key().uaa.clientid,
      client_secret: key().uaa.clientsecret,
    });
    const response = await fetch(`${key().uaa.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(response.status).toBe(200);
  });

  it('accepts the Java sample form: query parameters with response_type=token, on POST and GET', async () => {
    const query = new URLSearchParams({ grant_type: 'client_credentials', response_type: 'token' });
    const post = await fetch(`${key().uaa.url}/oauth/token?${query}`, {
      method: 'POST',
      headers: { authorization: basic() },
    });
    expect(post.status).toBe(200);
    const withCreds = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: key().uaa.clientid,
      client_secret: key().uaa.clientsecret,
    });
    const get = await fetch(`${key().uaa.url}/oauth/token?${withCreds}`);
    expect(get.status).toBe(200);
  });

  it('refuses bad credentials with 401 and unsupported grants with 400', async () => {
    const bad = await fetch(`${key().uaa.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${key().uaa.clientid}:wrong`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' });
    const none = await fetch(`${key().uaa.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(none.status).toBe(401);
    const grant = await fetch(`${key().uaa.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=a&password=b',
    });
    expect(grant.status).toBe(400);
    expect((await json(grant)).error).toBe('unsupported_grant_type');
  });

  it('publishes the signing keys so tokens verify like XSUAA tokens', async () => {
    const jwks = await json<{ keys: Record<string, unknown>[] }>(
      await fetch(`${h.sandbox.url}/oauth/token_keys`),
    );
    expect(jwks.keys[0]?.kty).toBe('RSA');
    const { payload, protectedHeader } = await jwtVerify(h.token, createLocalJWKSet(jwks as never), {
      currentDate: new Date(clock),
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toBe(key().uaa.clientid);
  });
});

describe('bearer tokens on the APIs', () => {
  it('answers 401 without a token, in each API family shape', async () => {
    const tasks = await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}`, { token: '' });
    expect(tasks.status).toBe(401);
    expect(typeof (await json(tasks)).message).toBe('string');
    const features = await h.call('/calm-features/v1/Features', { token: '' });
    expect(features.status).toBe(401);
    const body = await json<{ error: { code: string; message: string } }>(features);
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(features.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const projects = await h.call('/calm-projects/v1/projects', { token: '' });
    expect(projects.status).toBe(401);
  });

  it('answers 401 for a malformed or forged token', async () => {
    expect((await h.call('/calm-projects/v1/projects', { token: 'not-a-jwt' })).status).toBe(401);
    const [header, payload] = h.token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`;
    const response = await h.call('/calm-projects/v1/projects', { token: forged });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: 'The access token is invalid' });
  });

  it('answers 401 once the token has expired (configurable lifetime)', async () => {
    const token = await h.tokenFor(key());
    expect((await h.call('/calm-projects/v1/projects', { token })).status).toBe(200);
    clock += 601_000;
    try {
      const response = await h.call('/calm-projects/v1/projects', { token });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: 'The access token has expired' });
    } finally {
      clock -= 601_000;
    }
  });

  it('answers 403 when the token lacks the scope', async () => {
    const { token } = await h.client({ name: 'read-only tasks', scopes: ['tasks.read'] });
    expect((await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}`, { token })).status).toBe(200);
    const write = await h.call('/calm-tasks/v1/tasks', {
      method: 'POST',
      token,
      json: { projectId: DEMO_PROJECT_ID, title: 'x' },
    });
    expect(write.status).toBe(403);
    expect((await json(write)).message).toMatch(/calm-api\.tasks\.write/);
    const features = await h.call('/calm-features/v1/Features', { token });
    expect(features.status).toBe(403);
    expect((await json<{ error: { code: string } }>(features)).error.code).toBe('FORBIDDEN');
  });

  it('expires every issued token on request of the admin API (token expiry at runtime)', async () => {
    const { key: clientKey, token } = await h.client({ name: 'to expire' });
    expect((await h.call('/calm-projects/v1/projects', { token })).status).toBe(200);
    const expire = await h.admin('/tokens/expire', {
      method: 'POST',
      json: { clientId: clientKey.uaa.clientid },
    });
    expect(expire.status).toBe(200);
    clock += 5;
    expect((await h.call('/calm-projects/v1/projects', { token })).status).toBe(401);
    const fresh = await h.tokenFor(clientKey);
    expect((await h.call('/calm-projects/v1/projects', { token: fresh })).status).toBe(200);
  });
});

describe('technical clients and service keys (admin API)', () => {
  it('hands out a BTP-style service key that works as is', async () => {
    const created = await h.admin('/clients', {
      method: 'POST',
      json: { name: 'hub', scopes: ['features.read', 'tasks.read'] },
    });
    expect(created.status).toBe(201);
    const serviceKey = await json<{
      uaa: Record<string, string>;
      endpoints: { Api: string };
      sandbox: { scopes: string[] };
    }>(created);
    expect(serviceKey.uaa.clientid).toMatch(/^sb-[0-9a-f-]{36}!b\d+\|sapcloudalm-sandbox!b16907$/);
    expect(serviceKey.uaa.url).toBe(h.sandbox.url);
    expect(serviceKey.uaa['credential-type']).toBe('binding-secret');
    expect(serviceKey.endpoints.Api).toBe(`${h.sandbox.url}/api`);
    expect(serviceKey.endpoints.Api.endsWith('/api')).toBe(true);
    expect(serviceKey.sandbox.scopes).toEqual([
      'sapcloudalm-sandbox!b16907.calm-api.features.read',
      'sapcloudalm-sandbox!b16907.calm-api.tasks.read',
    ]);

    const downloaded = await h.admin(
      `/clients/${encodeURIComponent(serviceKey.uaa.clientid as string)}/service-key`,
    );
    expect(downloaded.status).toBe(200);
    expect(await downloaded.json()).toEqual(serviceKey);

    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: serviceKey.uaa.clientid as string,
      client_secret: serviceKey.uaa.clientsecret as string,
    });
    const token = await fetch(`${serviceKey.uaa.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const { access_token } = await json<{ access_token: string }>(token);
    const features = await fetch(`${serviceKey.endpoints.Api}/calm-features/v1/Features?$top=1`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(features.status).toBe(200);
  });

  it('limits what a client sees to its projects', async () => {
    const { token } = await h.client({ name: 'second project only', projectIds: [DEMO_SECOND_PROJECT_ID] });
    const projects = await json<{ id: string }[]>(await h.call('/calm-projects/v1/projects', { token }));
    expect(projects.map((project) => project.id)).toEqual([DEMO_SECOND_PROJECT_ID]);
    const features = await json<{ value: { projectId: string }[] }>(
      await h.call('/calm-features/v1/Features', { token }),
    );
    expect(features.value.length).toBeGreaterThan(0);
    expect(new Set(features.value.map((feature) => feature.projectId))).toEqual(
      new Set([DEMO_SECOND_PROJECT_ID]),
    );
    expect((await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}`, { token })).status).toBe(403);
    expect((await h.call(`/calm-projects/v1/projects/${DEMO_PROJECT_ID}`, { token })).status).toBe(403);

    const { token: none } = await h.client({ name: 'no projects', projectIds: [] });
    expect(await json(await h.call('/calm-projects/v1/projects', { token: none }))).toEqual([]);
  });

  it('stops accepting tokens of a deleted client', async () => {
    const { key: clientKey, token } = await h.client({ name: 'short-lived' });
    const deleted = await h.admin(`/clients/${encodeURIComponent(clientKey.uaa.clientid)}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
    expect((await h.call('/calm-projects/v1/projects', { token })).status).toBe(401);
  });

  it('rotates a secret: the old one stops working', async () => {
    const { key: clientKey } = await h.client({ name: 'rotating' });
    const rotated = await json<{ uaa: { clientsecret: string } }>(
      await h.admin(`/clients/${encodeURIComponent(clientKey.uaa.clientid)}/secret`, { method: 'POST' }),
    );
    expect(rotated.uaa.clientsecret).not.toBe(clientKey.uaa.clientsecret);
    await expect(h.tokenFor(clientKey)).rejects.toThrow(/401/);
  });

  it('protects the admin API with the admin token and answers in calmhub error shape', async () => {
    const response = await fetch(`${h.sandbox.url}/admin/clients`);
    expect(response.status).toBe(401);
    const body = await json<{ error: { code: string; requestId: string } }>(response);
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.requestId).toBeTruthy();
    const wrong = await fetch(`${h.sandbox.url}/admin/clients`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    const invalid = await h.admin('/clients', { method: 'POST', json: { name: 'x', scopes: ['tasks.fly'] } });
    expect(invalid.status).toBe(400);
    expect((await json<{ error: { code: string } }>(invalid)).error.code).toBe('validation_failed');
  });

  it('never returns the client secret in client listings', async () => {
    const listing = await (await h.admin('/clients')).text();
    expect(listing).not.toContain(key().uaa.clientsecret);
    expect(listing).toContain(key().uaa.clientid);
  });
});
