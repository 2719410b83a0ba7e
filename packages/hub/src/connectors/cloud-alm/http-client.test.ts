import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenCache } from '@calmhub/platform';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedCredential } from '../credential.js';
import { RemoteCallError } from '../remote-call-error.js';
import { HttpCloudAlmClient } from './http-client.js';

/** A scripted Cloud ALM: counts token requests and answers API calls from `answer`. */
async function scriptedCalm(answer: (req: IncomingMessage, res: ServerResponse, token: string) => void) {
  let tokens = 0;
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/oauth/token') {
      tokens++;
      const token = `token-${tokens}`;
      setTimeout(
        () =>
          res
            .setHeader('content-type', 'application/json')
            .end(JSON.stringify({ access_token: token, expires_in: 3600 })),
        20,
      );
      return;
    }
    const token = (req.headers.authorization ?? '').replace('Bearer ', '');
    seen.push(`${req.method} ${req.url} ${token}`);
    answer(req, res, token);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    seen,
    tokenRequests: () => tokens,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const credential = (base: string): ResolvedCredential => ({
  id: 'c1',
  version: 1,
  type: 'cloud_alm',
  system: 'cloud_alm',
  settings: { clientId: 'sb-x', tokenUrl: `${base}/oauth/token`, apiUrl: `${base}/api` },
  secret: { clientSecret: 's' },
});

describe('HttpCloudAlmClient', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  const client = (base: string) =>
    new HttpCloudAlmClient(
      { tokens: new TokenCache(), timeoutMs: 2000, now: Date.now },
      credential(base),
      `${base}/api/`,
    );

  it('shares one token request among concurrent calls and reuses the token until it nearly expires', async () => {
    const calm = await scriptedCalm((_req, res) =>
      res.setHeader('content-type', 'application/json').end('[]'),
    );
    closers.push(calm.close);
    const c = client(calm.base);
    await Promise.all([c.listProjects(), c.listProjects(), c.listProjects()]);
    await c.listProjects();
    expect(calm.tokenRequests()).toBe(1);
    expect(calm.seen).toEqual(Array(4).fill('GET /api/calm-projects/v1/projects token-1'));
  });

  it('fetches a new token once after a 401 and repeats the call', async () => {
    const calm = await scriptedCalm((_req, res, token) => {
      if (token === 'token-1') res.writeHead(401).end();
      else res.setHeader('content-type', 'application/json').end('[{"id":"p1","name":"Demo","status":"O"}]');
    });
    closers.push(calm.close);
    expect(await client(calm.base).listProjects()).toEqual([{ id: 'p1', name: 'Demo', status: 'O' }]);
    expect(calm.tokenRequests()).toBe(2);
  });

  it("reports Cloud ALM's own error text, the status and Retry-After", async () => {
    const calm = await scriptedCalm((_req, res) =>
      res
        .writeHead(503, { 'retry-after': '7', 'content-type': 'application/json' })
        .end('{"message":"Service busy"}'),
    );
    closers.push(calm.close);
    const error = (await client(calm.base)
      .listProjects()
      .catch((e: unknown) => e)) as RemoteCallError;
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ remoteStatus: 503, retryable: true, code: 'unavailable' });
    expect(error.message).toBe('Cloud ALM answered 503 to GET /calm-projects/v1/projects: Service busy');
    expect(error.retryAt).toBeGreaterThan(Date.now() + 5000);
  });

  it('sends write-backs as JSON, takes a PATCH answered 200 or 204, and never repeats a write that failed', async () => {
    const bodies: string[] = [];
    let patches = 0;
    const calm = await scriptedCalm((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        bodies.push(`${req.method} ${req.headers['content-type']} ${body}`);
        if (req.method === 'PATCH') {
          patches++;
          if (patches === 1) res.writeHead(204).end();
          else
            res.setHeader('content-type', 'application/json').end('{"uuid":"f1","description":"<p>x</p>"}');
        } else if (req.url?.endsWith('/comments')) res.writeHead(503, { 'retry-after': '1' }).end();
        else res.writeHead(201, { 'content-type': 'application/json' }).end(body);
      });
    });
    closers.push(calm.close);
    const c = client(calm.base);
    await c.updateFeatureDescription('f1', '<p>x</p>');
    await c.updateFeatureDescription('f1', '<p>x</p>');
    const reference = {
      id: 'S1',
      parentUuid: 'f1',
      name: 'calmhub',
      url: 'https://calmhub.example.com/stories/s1',
    };
    expect(await c.createExternalReference(reference)).toEqual(reference);
    const error = (await c.postComment('t1', 'hello').catch((e: unknown) => e)) as RemoteCallError;
    expect(error).toMatchObject({ remoteStatus: 503, retryable: true });
    expect(bodies).toEqual([
      'PATCH application/json {"description":"<p>x</p>"}',
      'PATCH application/json {"description":"<p>x</p>"}',
      `POST application/json ${JSON.stringify(reference)}`,
      'POST application/json {"text":"hello"}',
    ]);
    expect(calm.seen.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      'PATCH /api/calm-features/v1/Features/f1',
      'PATCH /api/calm-features/v1/Features/f1',
      'POST /api/calm-features/v1/ExternalReferences',
      'POST /api/calm-tasks/v1/tasks/t1/comments',
    ]);
  });

  it("reads a task's relations tolerantly (their shape is inferred): other field names, wrappers, odd types", async () => {
    const answers: Record<string, string> = {
      '/api/calm-tasks/v1/tasks/T1/relations': JSON.stringify([
        { id: 'R1', sourceTaskId: 'T1', targetTaskId: 'T2', type: 'DEPENDS_ON' },
        { sourceId: 'T3', targetId: 'T1', relationType: 'blocks' },
        { source: 'T1', target: 'T4', kind: 'relates to' },
        { id: 'R9', sourceTaskId: 'T1' },
      ]),
      '/api/calm-tasks/v1/tasks/T2/relations': JSON.stringify({
        value: [{ uuid: 'R1', fromTaskId: 'T1', toTaskId: 'T2', type: 'depends-on' }],
      }),
      '/api/calm-tasks/v1/tasks/T3/relations': '{"unexpected":true}',
    };
    const calm = await scriptedCalm((req, res) => {
      const body = answers[req.url ?? ''];
      if (body === undefined)
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no"}');
      else res.setHeader('content-type', 'application/json').end(body);
    });
    closers.push(calm.close);
    const c = client(calm.base);
    expect(await c.listTaskRelations('T1')).toEqual([
      { id: 'r1', sourceTaskId: 't1', targetTaskId: 't2', type: 'DEPENDS_ON' },
      { id: 't3:BLOCKS:t1', sourceTaskId: 't3', targetTaskId: 't1', type: 'BLOCKS' },
      { id: 't1:RELATES_TO:t4', sourceTaskId: 't1', targetTaskId: 't4', type: 'RELATES_TO' },
    ]);
    expect(await c.listTaskRelations('T2')).toEqual([
      { id: 'r1', sourceTaskId: 't1', targetTaskId: 't2', type: 'DEPENDS_ON' },
    ]);
    expect(await c.listTaskRelations('T3').catch((e: unknown) => e)).toBeInstanceOf(RemoteCallError);
    expect(await c.listTaskRelations('T5').catch((e: unknown) => e)).toMatchObject({ remoteStatus: 404 });
  });

  it('names an unreachable Cloud ALM without leaking query values', async () => {
    const c = new HttpCloudAlmClient(
      { tokens: new TokenCache(), timeoutMs: 2000, now: Date.now },
      credential('http://127.0.0.1:9'),
      'http://127.0.0.1:9/api',
    );
    const error = (await c.listProjects().catch((e: unknown) => e)) as RemoteCallError;
    expect(error).toMatchObject({ system: 'token_service', retryable: true, code: 'bad_gateway' });
    expect(error.message).toMatch(/^Token service http:\/\/127.0.0.1:9\/oauth\/token unreachable: /);
  });
});
