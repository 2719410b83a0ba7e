import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Credentials = {
  instanceUrl: string;
  user: { userName: string; password: string };
  oauth: { clientId: string; clientSecret: string };
};
type Result<T> = { result: T };
type Rec = Record<string, unknown>;

describe.each(testEngines)('ServiceNow emulator (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let snow: Credentials;
  let auth: string;

  const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json: body, ...rest } = init;
    return fetch(`${snow.instanceUrl}${path}`, {
      ...rest,
      headers: {
        authorization: auth,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(rest.headers as Record<string, string> | undefined),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
  const create = async (table: string, body: Rec) => {
    const response = await call(`/api/now/table/${table}`, { method: 'POST', json: body });
    expect(response.status, await response.clone().text()).toBe(201);
    return (await json<Result<Record<string, string>>>(response)).result;
  };

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store });
    snow = await json<Credentials>(await h.admin('/servicenow/credentials'));
    auth = `Basic ${Buffer.from(`${snow.user.userName}:${snow.user.password}`).toString('base64')}`;
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('authenticates with Basic and with tokens from oauth_token.do', async () => {
    const anonymous = await fetch(`${snow.instanceUrl}/api/now/table/incident`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
      status: 'failure',
    });
    const wrong = await call('/api/now/table/incident', {
      headers: { authorization: `Basic ${Buffer.from('calm.integration:x').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);

    const form = (fields: Record<string, string>) =>
      fetch(`${snow.instanceUrl}/oauth_token.do`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const denied = await form({
      grant_type: 'client_credentials',
      client_id: snow.oauth.clientId,
      client_secret: 'nope',
    });
    expect(denied.status).toBe(401);
    const password = await form({
      grant_type: 'password',
      client_id: snow.oauth.clientId,
      client_secret: snow.oauth.clientSecret,
      username: snow.user.userName,
      password: snow.user.password,
    });
    expect(password.status).toBe(200);
    const token = await json<{
      access_token: string;
      refresh_token: string;
      token_type: string;
      expires_in: number;
      scope: string;
    }>(password);
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 1799, scope: 'useraccount' });
    expect(token.refresh_token).toBeTruthy();
    const bearer = await fetch(`${snow.instanceUrl}/api/now/table/incident`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(bearer.status).toBe(200);
    const refreshed = await form({
      grant_type: 'refresh_token',
      client_id: snow.oauth.clientId,
      client_secret: snow.oauth.clientSecret,
      refresh_token: token.refresh_token,
    });
    expect(refreshed.status).toBe(200);
  });

  it('creates string-valued records with sys_id, number and reference fields', async () => {
    const incident = await create('incident', {
      short_description: 'Disk full',
      urgency: 1,
      impact: '1',
      caller_id: '6816f79cc0a8016401c5a33be04be441',
      not_a_field: 'ignored',
      number: 'INC9999999',
    });
    expect(incident.sys_id).toMatch(/^[0-9a-f]{32}$/);
    expect(incident.number).toBe('INC0000001');
    expect(incident).toMatchObject({
      urgency: '1',
      impact: '1',
      priority: '1',
      state: '1',
      active: 'true',
      sys_class_name: 'incident',
    });
    expect(incident).not.toHaveProperty('not_a_field');
    expect(incident.caller_id).toEqual({
      link: `${snow.instanceUrl}/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441`,
      value: '6816f79cc0a8016401c5a33be04be441',
    });
    expect(incident.sys_created_on).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const plain = await call(
      `/api/now/table/incident/${incident.sys_id}?sysparm_exclude_reference_link=true&sysparm_fields=number,caller_id`,
    );
    expect((await json<Result<Rec>>(plain)).result).toEqual({
      number: 'INC0000001',
      caller_id: '6816f79cc0a8016401c5a33be04be441',
    });
    expect((await create('change_request', { short_description: 'Patch' })).number).toBe('CHG0000001');
    const silent = await call('/api/now/table/incident', {
      method: 'POST',
      json: { short_description: 'x' },
      headers: { 'x-no-response-body': 'true' },
    });
    expect(silent.status).toBe(201);
    expect(await silent.text()).toBe('');
  });

  it('lists with sysparm_query, paging headers and field selection', async () => {
    for (const [text, urgency] of [
      ['alpha', '3'],
      ['beta', '2'],
      ['gamma', '2'],
      ['delta', '1'],
    ] as const)
      await create('incident', { short_description: `Query ${text}`, urgency, category: 'network' });
    const list = await call(
      '/api/now/table/incident?sysparm_query=category=network^urgency=2^ORurgency=1^ORDERBYDESCshort_description&sysparm_fields=short_description,urgency',
    );
    expect(list.status).toBe(200);
    expect(list.headers.get('x-total-count')).toBe('3');
    expect((await json<Result<Rec[]>>(list)).result).toEqual([
      { short_description: 'Query gamma', urgency: '2' },
      { short_description: 'Query delta', urgency: '1' },
      { short_description: 'Query beta', urgency: '2' },
    ]);
    const page = await call(
      '/api/now/table/incident?sysparm_query=category=network^ORDERBYshort_description&sysparm_limit=2&sysparm_offset=2&sysparm_fields=short_description',
    );
    expect(page.headers.get('x-total-count')).toBe('4');
    const link = page.headers.get('link') ?? '';
    expect(link).toContain('rel="first"');
    expect(link).toContain('rel="prev"');
    expect(link).not.toContain('rel="next"');
    expect(link).toContain('sysparm_offset=0');
    expect((await json<Result<Rec[]>>(page)).result).toEqual([
      { short_description: 'Query delta' },
      { short_description: 'Query gamma' },
    ]);
    const bad = await call('/api/now/table/incident?sysparm_limit=-1');
    expect(bad.status).toBe(400);
  });

  it('updates, resolves under the data policy, and deletes', async () => {
    const incident = await create('incident', { short_description: 'Printer' });
    const patched = await call(`/api/now/table/incident/${incident.sys_id}`, {
      method: 'PATCH',
      json: { urgency: '2', work_notes: 'Looking' },
    });
    expect(patched.status).toBe(200);
    expect((await json<Result<Record<string, string>>>(patched)).result).toMatchObject({
      urgency: '2',
      sys_mod_count: '1',
      work_notes: '',
    });
    const policy = await call(`/api/now/table/incident/${incident.sys_id}`, {
      method: 'PUT',
      json: { state: '6' },
    });
    expect(policy.status).toBe(403);
    expect(await policy.json()).toMatchObject({ error: { message: 'Operation Failed' }, status: 'failure' });
    const resolved = await call(`/api/now/table/incident/${incident.sys_id}`, {
      method: 'PUT',
      json: { state: '6', close_code: 'Solved (Permanently)', close_notes: 'Fixed' },
    });
    const record = (await json<Result<Record<string, string>>>(resolved)).result;
    expect(record).toMatchObject({ state: '6', incident_state: '6', active: 'true' });
    expect(record.resolved_at).not.toBe('');
    const display = await call(
      `/api/now/table/incident/${incident.sys_id}?sysparm_display_value=true&sysparm_fields=state,work_notes`,
    );
    const shown = (await json<Result<Record<string, string>>>(display)).result;
    expect(shown.state).toBe('Resolved');
    expect(shown.work_notes).toContain('Looking');

    expect((await call(`/api/now/table/incident/${incident.sys_id}`, { method: 'DELETE' })).status).toBe(204);
    const gone = await call(`/api/now/table/incident/${incident.sys_id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({
      error: {
        message: 'No Record found',
        detail: "Record doesn't exist or ACL restricts the record retrieval",
      },
      status: 'failure',
    });
    expect((await call('/api/now/table/no_such_table')).status).toBe(400);
    const broken = await call('/api/now/table/incident', {
      method: 'POST',
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ status: 'failure' });
    expect(
      (await call('/api/now/table/sys_journal_field', { method: 'POST', json: { value: 'x' } })).status,
    ).toBe(403);
  });

  it('injects faults on its own paths', async () => {
    const added = await h.admin('/servicenow/faults', {
      method: 'POST',
      json: {
        path: '/api/now/table/*',
        methods: ['GET'],
        kind: 'status',
        status: 429,
        retryAfterSeconds: 7,
        limit: 1,
      },
    });
    expect(added.status).toBe(201);
    const limited = await call('/api/now/table/incident');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toMatchObject({
      error: { message: 'Rate limit exceeded' },
      status: 'failure',
    });
    expect((await call('/api/now/table/incident')).status).toBe(200);
    expect((await h.admin('/servicenow/faults', { method: 'DELETE' })).status).toBe(204);
  });

  describe("bad input is a 4xx in ServiceNow's shapes, never a 500", () => {
    const token = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${snow.instanceUrl}/oauth_token.do`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const basic = (raw: string) => `Basic ${Buffer.from(raw).toString('base64')}`;

    it('malformed percent-encoding in Basic credentials on oauth_token.do', async () => {
      for (const raw of ['a%zz:b', `${snow.oauth.clientId}:%E0%A4%A`, '%:%']) {
        const response = await token('grant_type=client_credentials', { authorization: basic(raw) });
        expect(response.status, raw).toBe(401);
        expect(await response.json()).toEqual({ error_description: 'access_denied', error: 'server_error' });
      }
      // Form-encoded credentials still work (RFC 6749 §2.3.1).
      const encoded = basic(
        `${encodeURIComponent(snow.oauth.clientId)}:${encodeURIComponent(snow.oauth.clientSecret)}`,
      );
      expect((await token('grant_type=client_credentials', { authorization: encoded })).status).toBe(200);
    });

    it('a repeated or non-string client_secret or refresh_token', async () => {
      const id = `client_id=${snow.oauth.clientId}`;
      const secret = `client_secret=${encodeURIComponent(snow.oauth.clientSecret)}`;
      for (const body of [
        `grant_type=client_credentials&${id}&client_secret=a&client_secret=b`,
        `grant_type=client_credentials&${id}&${secret}&${secret}`,
        `grant_type=refresh_token&${id}&${secret}&refresh_token=a&refresh_token=b`,
        `grant_type=client_credentials&grant_type=password&${id}&${secret}`,
      ]) {
        const response = await token(body);
        expect(response.status, body).toBe(400);
        expect(await response.json()).toMatchObject({ error: 'invalid_request' });
      }
      const asJson = await fetch(`${snow.instanceUrl}/oauth_token.do`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'refresh_token',
          client_id: snow.oauth.clientId,
          client_secret: snow.oauth.clientSecret,
          refresh_token: { value: 'x' },
        }),
      });
      expect(asJson.status).toBe(400);
    });

    it('a field nested 10,000 deep in a Table API body', async () => {
      for (const [open, close] of [
        ['{"a":', '}'],
        ['[', ']'],
      ]) {
        const response = await fetch(`${snow.instanceUrl}/api/now/table/incident`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: `{"short_description":${open?.repeat(10_000)}1${close?.repeat(10_000)}}`,
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({
          status: 'failure',
          error: { message: expect.any(String) },
        });
      }
      // Moderate nesting is stored as JSON text, as before.
      const shallow = await create('incident', { short_description: { a: { b: [1, 2] } } });
      expect(shallow.short_description).toBe('{"a":{"b":[1,2]}}');
    });

    it('names of Object.prototype members are no tables, fields or actions (found by the fuzz test)', async () => {
      for (const table of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const created = await call(`/api/now/table/${table}`, { method: 'POST', json: {} });
        expect(created.status, table).toBe(400);
        expect(await created.json()).toMatchObject({ error: { message: `Invalid table ${table}` } });
        expect((await call(`/api/now/table/${table}`)).status).toBe(400);
      }
      for (const query of [
        'constructorLIKEx',
        '__proto__STARTSWITHa',
        'ORDERBYconstructor^constructorISEMPTY',
      ]) {
        const listed = await call(
          `/api/now/table/incident?sysparm_query=${query}&sysparm_fields=constructor,number`,
        );
        expect(listed.status, query).toBe(200);
      }
      const before = await json<Result<unknown[]>>(
        await call('/api/now/table/incident?sysparm_query=short_descriptionLIKEpro&sysparm_fields=number'),
      );
      const incident = await create('incident', {
        short_description: 'proto',
        constructor: 'x',
        toString: 'y',
      });
      expect(Object.hasOwn(incident, 'toString')).toBe(false);
      // Operators follow lower-case field names directly, as on ServiceNow.
      const after = await json<Result<unknown[]>>(
        await call('/api/now/table/incident?sysparm_query=short_descriptionLIKEpro&sysparm_fields=number'),
      );
      expect(after.result.length).toBe(before.result.length + 1);
      const action = await h.admin(`/servicenow/tables/incident/${incident.sys_id}/actions/constructor`, {
        method: 'POST',
        json: {},
      });
      expect(action.status).toBe(404);
      // Not a sys_id: no lookup at all (PostgreSQL cannot compare text holding NUL).
      for (const id of ['%00', 'x', incident.sys_id?.toUpperCase()])
        expect((await call(`/api/now/table/incident/${id}`)).status, id).toBe(404);
    });

    it('NUL and unpaired surrogates in a Table API body (PostgreSQL cannot store them)', async () => {
      for (const body of [
        '{"short_description":"a\\u0000b"}',
        '{"work_notes":"\\ud800"}',
        '{"\\udc00":"x"}',
      ]) {
        const response = await fetch(`${snow.instanceUrl}/api/now/table/incident`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body,
        });
        expect(response.status, body).toBe(400);
        expect(await response.json()).toMatchObject({
          status: 'failure',
          error: { detail: expect.stringContaining('cannot be stored') },
        });
      }
    });

    it('invalid UTF-8 in a Table API body', async () => {
      const response = await fetch(`${snow.instanceUrl}/api/now/table/incident`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: Buffer.concat([
          Buffer.from('{"short_description":"caf'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}'),
        ]),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ status: 'failure' });
      const fine = await create('incident', { short_description: 'café ☕ 𝄞' });
      expect(fine.short_description).toBe('café ☕ 𝄞');
    });
  });
});
