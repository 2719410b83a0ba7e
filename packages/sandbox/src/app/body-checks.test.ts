import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, startHarness } from '../test-fixtures/harness.js';
import { BodyCheckError, JsonBodyCheck, MAX_JSON_DEPTH } from './body-checks.js';

async function through(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  const check = Readable.from(chunks).pipe(new JsonBodyCheck());
  for await (const chunk of check) out.push(chunk as Buffer);
  return Buffer.concat(out).toString('utf8');
}

describe('JsonBodyCheck', () => {
  it('passes valid UTF-8 unchanged, also when a character is split across chunks', async () => {
    const bytes = Buffer.from('{"t":"café ☕ 𝄞"}');
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    expect(await through(chunks)).toBe('{"t":"café ☕ 𝄞"}');
  });

  it('refuses invalid UTF-8, overlong forms, surrogates and a truncated last character', async () => {
    for (const bad of [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      await expect(through([Buffer.from('{"t":"'), Buffer.from(bad)]), String(bad)).rejects.toBeInstanceOf(
        BodyCheckError,
      );
    }
  });

  it('counts nesting outside strings only', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(await through([Buffer.from(deep(MAX_JSON_DEPTH))])).toBe(deep(MAX_JSON_DEPTH));
    await expect(through([Buffer.from(deep(MAX_JSON_DEPTH + 1))])).rejects.toThrow(/nests deeper/);
    const inString = `{"t":"${'['.repeat(10_000)}\\"{{{"}`;
    expect(await through([Buffer.from(inString)])).toBe(inString);
  });
});

describe('invalid UTF-8 in JSON bodies is a 400 on every sandbox API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ seed: 'demo' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const invalid = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
  const cases: { path: string; auth: 'token' | 'admin' | 'none'; shape: (body: unknown) => void }[] = [
    { path: '/api/calm-tasks/v1/tasks', auth: 'token', shape: (b) => expect(b).toHaveProperty('message') },
    {
      path: '/api/calm-projects/v1/projects',
      auth: 'token',
      shape: (b) => expect(b).toHaveProperty('message'),
    },
    {
      path: '/api/calm-features/v1/Features',
      auth: 'token',
      shape: (b) =>
        expect(b).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } }),
    },
    {
      path: '/admin/clients',
      auth: 'admin',
      shape: (b) =>
        expect(b).toMatchObject({ error: { code: expect.any(String), requestId: expect.any(String) } }),
    },
    {
      path: '/admin/eam/destinations',
      auth: 'admin',
      shape: (b) => expect(b).toMatchObject({ error: { code: expect.any(String) } }),
    },
    {
      path: '/servicenow/api/now/table/incident',
      auth: 'none',
      shape: (b) => expect(b).toMatchObject({ status: 'failure' }),
    },
    {
      path: '/sap-build/workflow/rest/v1/workflow-instances',
      auth: 'none',
      shape: (b) => expect(b).toMatchObject({ error: { message: expect.any(String) } }),
    },
    {
      path: '/jira/rest/api/2/issue',
      auth: 'none',
      shape: (b) => expect(b).toHaveProperty('errorMessages'),
    },
  ];

  it.each(cases)('POST $path', async ({ path, auth, shape }) => {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (auth === 'token') headers.authorization = `Bearer ${h.token}`;
    if (auth === 'admin') headers.authorization = `Bearer ${h.adminToken}`;
    const response = await fetch(`${h.sandbox.url}${path}`, { method: 'POST', headers, body: invalid });
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(400);
    shape(body);
  });

  it('answers 400 to a NUL in an admin URL (PostgreSQL cannot compare it; found by the fuzz test)', async () => {
    for (const path of [
      '/admin/eam/webhooks/%00',
      '/admin/eam/subscriptions/a%00b',
      '/admin/clients?x=%00',
    ]) {
      const response = await fetch(`${h.sandbox.url}${path}`, {
        headers: { authorization: `Bearer ${h.adminToken}` },
      });
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { code: expect.any(String), message: 'The request URL contains a NUL character' },
      });
    }
  });

  it('stores valid multi-byte text unchanged', async () => {
    const response = await h.call('/calm-tasks/v1/tasks', {
      method: 'POST',
      json: { projectId: DEMO_PROJECT_ID, title: 'Café ☕ 𝄞', type: 'CALMTASK' },
    });
    expect(response.status, await response.clone().text()).toBe(201);
    expect(((await response.json()) as { title: string }).title).toBe('Café ☕ 𝄞');
  });
});
