import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenCache } from '@calmhub/platform';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpConnectors } from '../connectors.js';
import type { ResolvedCredential } from '../credential.js';
import { RemoteCallError } from '../remote-call-error.js';
import { ctmsApiBase, HttpCtmsClient } from './http-client.js';

interface Seen {
  method: string;
  url: string;
  token: string;
  contentType: string | undefined;
  body: string;
}

/** A scripted CTMS: counts token requests, records calls and answers them from `answer`. */
async function scriptedCtms(answer: (req: Seen, res: ServerResponse) => void) {
  let tokens = 0;
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/uaa/oauth/token') {
        tokens++;
        res
          .setHeader('content-type', 'application/json')
          .end(JSON.stringify({ access_token: `token-${tokens}`, expires_in: 3600 }));
        return;
      }
      const call = {
        method: req.method ?? '',
        url: req.url ?? '',
        token: (req.headers.authorization ?? '').replace('Bearer ', ''),
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(call);
      answer(call, res);
    });
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

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const credential = (base: string): ResolvedCredential => ({
  id: 'ctms-1',
  version: 1,
  type: 'oauth2_client_credentials',
  system: 'ctms',
  settings: { clientId: 'sb-ctms', tokenUrl: `${base}/uaa/oauth/token`, apiUrl: `${base}/tms/` },
  secret: { clientSecret: 's' },
});

describe('HttpCtmsClient', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  const client = (base: string) =>
    new HttpCtmsClient({ tokens: new TokenCache(), timeoutMs: 2000, now: Date.now }, credential(base));

  it('appends /v2 to the service key uri, except to a /v2 base or the Cloud ALM pass-through', () => {
    expect(ctmsApiBase('https://tms.example/')).toBe('https://tms.example/v2');
    expect(ctmsApiBase('https://tms.example/v2')).toBe('https://tms.example/v2');
    expect(ctmsApiBase('https://calm.example/api/imp-cdm-transport-management-api/v1')).toBe(
      'https://calm.example/api/imp-cdm-transport-management-api/v1',
    );
  });

  it('asks a queue for every documented status by default, sends names as codes and lower-cases answers', async () => {
    const ctms = await scriptedCtms((_req, res) =>
      json(res, 200, {
        transportRequests: [
          {
            id: 7,
            status: 'Initial',
            description: 'US-1',
            position: 1,
            entries: [{ id: 70, uri: '4378', contentType: 'MTA', storageType: 'FILE' }],
          },
        ],
      }),
    );
    closers.push(ctms.close);
    const c = client(ctms.base);
    expect(await c.queue(3)).toEqual([
      {
        id: 7,
        status: 'initial',
        description: 'US-1',
        position: 1,
        createdAt: undefined,
        queuedAt: undefined,
        entries: [{ id: 70, uri: '4378', contentType: 'MTA', storageType: 'FILE' }],
      },
    ]);
    await c.queue(3, ['Initial', 'error', 'er', 'fa']);
    expect(ctms.seen.map((s) => decodeURIComponent(s.url))).toEqual([
      '/tms/v2/nodes/3/transportRequests?status=in,ru,re,su,wa,er,fa,de',
      '/tms/v2/nodes/3/transportRequests?status=in,er,fa',
    ]);
    expect(ctms.tokenRequests()).toBe(1);
  });

  it('uploads a file as multipart (file, namedUser) and creates the request with the documented body', async () => {
    const ctms = await scriptedCtms((req, res) => {
      if (req.url.endsWith('/files/upload')) json(res, 201, { fileId: 4378, fileName: 'app.mtar' });
      else
        json(res, 200, {
          transportRequestId: 99,
          transportRequestDescription: 'US-1',
          queueEntries: [{ queueId: 1, nodeId: 3, nodeName: 'QAS' }],
        });
    });
    closers.push(ctms.close);
    const c = client(ctms.base);
    expect(await c.uploadFile('app.mtar', Buffer.from('MTAR-BYTES'), 'jane@corp.com')).toEqual({
      fileId: 4378,
      fileName: 'app.mtar',
    });
    const [upload] = ctms.seen;
    expect(upload?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload?.body).toMatch(/name="file"; filename="app.mtar"\r\n[\s\S]*\r\n\r\nMTAR-BYTES\r\n/);
    expect(upload?.body).toMatch(/name="namedUser"\r\n\r\njane@corp.com\r\n/);
    expect(
      await c.uploadToNode({
        nodeName: 'QAS',
        fileId: 4378,
        description: 'US-1',
        namedUser: 'jane@corp.com',
      }),
    ).toEqual({ transportRequestId: 99, queueEntries: [{ nodeId: 3, nodeName: 'QAS' }] });
    expect(JSON.parse(ctms.seen[1]?.body ?? '')).toEqual({
      contentType: 'MTA',
      storageType: 'FILE',
      nodeName: 'QAS',
      description: 'US-1',
      namedUser: 'jane@corp.com',
      entries: [{ uri: '4378' }],
    });
  });

  it('fetches a new token once after a 401 and repeats the call (an upload too)', async () => {
    const ctms = await scriptedCtms((req, res) => {
      if (req.token === 'token-1') json(res, 401, { errorType: 'UNAUTHORIZED', errorMessage: 'expired' });
      else if (req.url.endsWith('/files/upload'))
        json(res, 201, { fileId: 1, fileName: req.body.includes('MTAR') ? 'a.mtar' : 'empty' });
      else json(res, 200, { nodes: [{ id: 3, name: 'QAS', forwardMode: 'POST_IMPORT' }] });
    });
    closers.push(ctms.close);
    const c = client(ctms.base);
    expect(await c.findNode('QAS')).toEqual({ id: 3, name: 'QAS' });
    expect(await c.uploadFile('a.mtar', Buffer.from('MTAR'), 'u')).toEqual({ fileId: 1, fileName: 'a.mtar' });
    expect(ctms.tokenRequests()).toBe(2);
  });

  it("reports CTMS's own error text, the status and Retry-After; action statuses lower-cased", async () => {
    const ctms = await scriptedCtms((req, res) => {
      if (req.url.includes('/import'))
        json(res, 400, { errorType: 'BAD_REQUEST', errorMessage: 'Transport request 5 cannot be imported' });
      else if (req.url.includes('/actions/1'))
        json(res, 200, {
          id: 1,
          type: 'IMPORT',
          status: 'Running',
          transportRequests: [{ id: 5, status: 'RUNNING', entities: [] }],
        });
      else
        res
          .writeHead(429, { 'retry-after': '9' })
          .end('{"errorType":"TOO_MANY_REQUESTS","errorMessage":"Slow down"}');
    });
    closers.push(ctms.close);
    const c = client(ctms.base);
    const refused = (await c.importRequests(3, [5], 'u').catch((e: unknown) => e)) as RemoteCallError;
    expect(refused).toBeInstanceOf(RemoteCallError);
    expect(refused).toMatchObject({ system: 'ctms', remoteStatus: 400, retryable: false });
    expect(refused.message).toBe(
      'CTMS answered 400 to POST /nodes/3/transportRequests/import: Transport request 5 cannot be imported',
    );
    expect(JSON.parse(ctms.seen[0]?.body ?? '')).toEqual({ transportRequests: [5], namedUser: 'u' });
    expect(await c.action(1)).toMatchObject({
      status: 'running',
      transportRequests: [{ id: 5, status: 'running' }],
    });
    const busy = (await c.listNodes().catch((e: unknown) => e)) as RemoteCallError;
    expect(busy).toMatchObject({ remoteStatus: 429, retryable: true, code: 'unavailable' });
    expect(busy.retryAt).toBeGreaterThan(Date.now() + 7000);
  });

  it('proves a CTMS credential by a token and GET /v2/nodes', async () => {
    const ctms = await scriptedCtms((_req, res) =>
      json(res, 200, {
        nodes: [
          { id: 1, name: 'DEV' },
          { id: 2, name: 'QAS' },
        ],
      }),
    );
    closers.push(ctms.close);
    const connectors = createHttpConnectors({ timeoutMs: 2000, now: Date.now });
    const result = await connectors.testCredential(credential(ctms.base));
    expect(result).toEqual({
      ok: true,
      check: `token from ${ctms.base}/uaa/oauth/token, then GET /v2/nodes`,
      message: 'Token received; 2 transport node(s) visible to this client.',
    });
    expect(ctms.seen.map((s) => s.url)).toEqual(['/tms/v2/nodes']);
  });
});
