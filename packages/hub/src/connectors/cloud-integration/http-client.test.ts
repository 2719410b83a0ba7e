import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenCache } from '@calmhub/platform';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpConnectors } from '../connectors.js';
import type { ResolvedCredential } from '../credential.js';
import { RemoteCallError } from '../remote-call-error.js';
import { HttpCloudIntegrationClient } from './http-client.js';

interface Seen {
  method: string;
  url: string;
  authorization: string;
  csrf: string | undefined;
  cookie: string | undefined;
  accept: string | undefined;
  body: string;
}

/** A scripted Cloud Integration tenant: counts token requests, records calls, answers from `answer`. */
async function scriptedCpi(answer: (req: Seen, res: ServerResponse) => void) {
  let tokens = 0;
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/oauth/token') {
        tokens++;
        res
          .setHeader('content-type', 'application/json')
          .end(JSON.stringify({ access_token: `token-${tokens}`, expires_in: 3600 }));
        return;
      }
      const call: Seen = {
        method: req.method ?? '',
        url: decodeURIComponent(req.url ?? ''),
        authorization: req.headers.authorization ?? '',
        csrf: req.headers['x-csrf-token'] as string | undefined,
        cookie: req.headers.cookie,
        accept: req.headers.accept,
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

const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

const csrfRequired = (res: ServerResponse) =>
  res
    .writeHead(403, { 'x-csrf-token': 'Required', 'content-type': 'text/plain' })
    .end('CSRF token validation failed');

const oauth = (base: string): ResolvedCredential => ({
  id: 'cpi-1',
  version: 1,
  type: 'oauth2_client_credentials',
  system: 'cloud_integration',
  settings: { clientId: 'sb-cpi', tokenUrl: `${base}/oauth/token`, apiUrl: `${base}/api/v1` },
  secret: { clientSecret: 's' },
});

const basic = (base: string): ResolvedCredential => ({
  id: 'cpi-2',
  version: 1,
  type: 'basic',
  system: 'cloud_integration',
  settings: { username: 'deployer', apiUrl: `${base}/api/v1/` },
  secret: { password: 'pw' },
});

const BASIC_AUTH = `Basic ${Buffer.from('deployer:pw').toString('base64')}`;

describe('HttpCloudIntegrationClient', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  const client = (credential: ResolvedCredential) =>
    new HttpCloudIntegrationClient({ tokens: new TokenCache(), timeoutMs: 2000, now: Date.now }, credential);

  it('with Basic, fetches a CSRF token and the session cookies once, before the first write', async () => {
    const cpi = await scriptedCpi((req, res) => {
      if (req.csrf === 'Fetch')
        json(
          res,
          200,
          { d: { results: [] } },
          {
            'x-csrf-token': 'tok-1',
            'set-cookie': ['JSESSIONID=abc; Path=/; HttpOnly', '__VCAP_ID__=v1; Path=/'],
          },
        );
      else if (req.method === 'GET')
        json(res, 404, { error: { code: 'Not Found', message: { lang: 'en', value: 'no' } } });
      else if (req.url.startsWith('/api/v1/Deploy'))
        res.writeHead(202, { 'content-type': 'text/plain' }).end('task-42');
      else res.writeHead(req.method === 'POST' ? 201 : 200).end();
    });
    closers.push(cpi.close);
    const c = client(basic(cpi.base));
    expect(await c.getArtifact('Flow_A')).toBeUndefined();
    await c.ensurePackage({ id: 'Pkg', name: 'Package' });
    await c.createArtifact({
      id: 'Flow_A',
      name: 'Flow A',
      packageId: 'Pkg',
      content: Buffer.from('PK-zip'),
    });
    expect(await c.deploy('Flow_A')).toBe('task-42');
    expect(cpi.seen.map((s) => `${s.method} ${s.url} ${s.csrf ?? '-'} ${s.cookie ?? '-'}`)).toEqual([
      "GET /api/v1/IntegrationDesigntimeArtifacts(Id='Flow_A',Version='active') - -",
      "GET /api/v1/IntegrationPackages('Pkg') - -",
      'GET /api/v1/IntegrationPackages?$top=1 Fetch -',
      'POST /api/v1/IntegrationPackages tok-1 JSESSIONID=abc; __VCAP_ID__=v1',
      'POST /api/v1/IntegrationDesigntimeArtifacts tok-1 JSESSIONID=abc; __VCAP_ID__=v1',
      "POST /api/v1/DeployIntegrationDesigntimeArtifact?Id='Flow_A'&Version='active' tok-1 JSESSIONID=abc; __VCAP_ID__=v1",
    ]);
    expect(cpi.seen.every((s) => s.authorization === BASIC_AUTH)).toBe(true);
    expect(JSON.parse(cpi.seen[4]?.body ?? '')).toEqual({
      Name: 'Flow A',
      Id: 'Flow_A',
      PackageId: 'Pkg',
      ArtifactContent: Buffer.from('PK-zip').toString('base64'),
    });
    expect(cpi.tokenRequests()).toBe(0);
  });

  it('with OAuth, writes without a token, and on a 403 "x-csrf-token: Required" fetches one and repeats once', async () => {
    let refused = 0;
    const cpi = await scriptedCpi((req, res) => {
      if (req.csrf === 'Fetch')
        json(res, 200, { d: { results: [] } }, { 'x-csrf-token': 'tok-9', 'set-cookie': 'S=1; Path=/' });
      else if (req.method === 'PUT' && req.csrf !== 'tok-9') {
        refused++;
        csrfRequired(res);
      } else res.writeHead(200).end();
    });
    closers.push(cpi.close);
    const c = client(oauth(cpi.base));
    await c.updateArtifact({ id: "It's", name: 'N', content: Buffer.from('z') });
    expect(refused).toBe(1);
    expect(cpi.seen.map((s) => `${s.method} ${s.url} ${s.csrf ?? '-'} ${s.cookie ?? '-'}`)).toEqual([
      "PUT /api/v1/IntegrationDesigntimeArtifacts(Id='It''s',Version='active') - -",
      'GET /api/v1/IntegrationPackages?$top=1 Fetch -',
      "PUT /api/v1/IntegrationDesigntimeArtifacts(Id='It''s',Version='active') tok-9 S=1",
    ]);
    expect(cpi.seen.every((s) => s.authorization === 'Bearer token-1')).toBe(true);
  });

  it('a Basic session that expired is renewed once; a second refusal is reported', async () => {
    let fetches = 0;
    const cpi = await scriptedCpi((req, res) => {
      if (req.csrf === 'Fetch') {
        fetches++;
        json(
          res,
          200,
          { d: { results: [] } },
          { 'x-csrf-token': `tok-${fetches}`, 'set-cookie': `S=${fetches}` },
        );
      } else if (req.url.includes('Flow_B')) csrfRequired(res);
      else if (req.csrf === 'tok-1') csrfRequired(res);
      else res.writeHead(202).end('task');
    });
    closers.push(cpi.close);
    const c = client(basic(cpi.base));
    expect(await c.deploy('Flow_A')).toBe('task');
    expect(fetches).toBe(2);
    const error = (await c.deploy('Flow_B').catch((e: unknown) => e)) as RemoteCallError;
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ system: 'cloud_integration', remoteStatus: 403, retryable: false });
    expect(error.message).toBe(
      'Cloud Integration answered 403 to POST /DeployIntegrationDesigntimeArtifact: CSRF token validation failed',
    );
  });

  it('reads OData v2 answers: artifact, runtime (dates as ISO), error text, zip bytes; 404s are undefined', async () => {
    const zip = Buffer.from([0x50, 0x4b, 3, 4, 0, 255, 1]);
    const cpi = await scriptedCpi((req, res) => {
      if (req.url.endsWith('$value') && req.url.includes('Designtime'))
        res.writeHead(200, { 'content-type': 'application/zip' }).end(zip);
      else if (req.url.includes("IntegrationRuntimeArtifacts('Gone')"))
        json(res, 404, { error: { code: 'Not Found', message: { lang: 'en', value: 'gone' } } });
      else if (req.url.endsWith('ErrorInformation/$value'))
        res.writeHead(200, { 'content-type': 'text/plain' }).end('Adapter failed\n');
      else if (req.url.includes('IntegrationRuntimeArtifacts'))
        json(res, 200, {
          d: {
            __metadata: { uri: 'x' },
            Id: 'Flow_A',
            Version: '1.0.3',
            Name: 'Flow A',
            Type: 'INTEGRATION_FLOW',
            DeployedBy: 'sb-cpi',
            DeployedOn: '/Date(1764489600000)/',
            Status: 'ERROR',
          },
        });
      else if (req.url.includes('BuildAndDeployStatus'))
        json(res, 200, { d: { TaskId: 't1', Status: 'DEPLOYING' } });
      else json(res, 200, { d: { Id: 'Flow_A', Version: '1.0.3', Name: 'Flow A', PackageId: 'Pkg' } });
    });
    closers.push(cpi.close);
    const c = client(oauth(cpi.base));
    expect(await c.getArtifact('Flow_A', '1.0.3')).toEqual({
      id: 'Flow_A',
      version: '1.0.3',
      name: 'Flow A',
      packageId: 'Pkg',
    });
    expect((await c.downloadArtifact('Flow_A')).equals(zip)).toBe(true);
    expect(cpi.seen.at(-1)?.accept).toBe('application/zip');
    expect(await c.runtimeArtifact('Flow_A')).toEqual({
      id: 'Flow_A',
      version: '1.0.3',
      name: 'Flow A',
      status: 'ERROR',
      deployedBy: 'sb-cpi',
      deployedOn: '2025-11-30T08:00:00.000Z',
    });
    expect(await c.runtimeArtifact('Gone')).toBeUndefined();
    expect(await c.runtimeError('Gone')).toBeUndefined();
    expect(await c.runtimeError('Flow_A')).toBe('Adapter failed');
    expect(await c.buildAndDeployStatus('t1')).toBe('DEPLOYING');
    expect(cpi.seen.map((s) => s.url)).toContain("/api/v1/BuildAndDeployStatus(TaskId='t1')");
  });

  it("reports Cloud Integration's OData error text with the status", async () => {
    const cpi = await scriptedCpi((_req, res) =>
      json(res, 409, {
        error: {
          code: 'Conflict',
          message: { lang: 'en', value: "Integration design time artifact 'Flow_A' already exists" },
        },
      }),
    );
    closers.push(cpi.close);
    const error = (await client(oauth(cpi.base))
      .createArtifact({ id: 'Flow_A', name: 'A', packageId: 'P', content: Buffer.from('z') })
      .catch((e: unknown) => e)) as RemoteCallError;
    expect(error).toMatchObject({ system: 'cloud_integration', remoteStatus: 409, retryable: false });
    expect(error.message).toBe(
      "Cloud Integration answered 409 to POST /IntegrationDesigntimeArtifacts: Integration design time artifact 'Flow_A' already exists",
    );
  });

  it('proves a credential by GET /IntegrationPackages?$top=1, with a token or with Basic authentication', async () => {
    const cpi = await scriptedCpi((req, res) =>
      req.authorization === `Basic ${Buffer.from('deployer:wrong').toString('base64')}`
        ? json(res, 401, {
            error: { code: 'Unauthorized', message: { lang: 'en', value: 'Bad credentials' } },
          })
        : json(res, 200, { d: { results: [{ Id: 'Pkg', Name: 'Package' }] } }),
    );
    closers.push(cpi.close);
    const connectors = createHttpConnectors({ timeoutMs: 2000, now: Date.now });
    expect(await connectors.testCredential(oauth(cpi.base))).toEqual({
      ok: true,
      check: `token from ${cpi.base}/oauth/token, then GET /IntegrationPackages?$top=1`,
      message: 'Token received; Cloud Integration answered: this client may read integration packages.',
    });
    expect(await connectors.testCredential(basic(cpi.base))).toMatchObject({
      ok: true,
      check: `GET ${cpi.base}/api/v1/IntegrationPackages?$top=1 with Basic authentication`,
    });
    const wrong = basic(cpi.base);
    wrong.secret.password = 'wrong';
    expect(await connectors.testCredential(wrong)).toMatchObject({
      ok: false,
      remoteStatus: 401,
      message: 'Cloud Integration answered 401 to GET /IntegrationPackages: Bad credentials',
    });
    expect(cpi.seen.map((s) => s.url)).toEqual(Array(3).fill('/api/v1/IntegrationPackages?$top=1'));
  });
});
