import { connect } from 'node:net';
import { Writable } from 'node:stream';
import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.js';
import { createLogger } from '../logging/logger.js';
import {
  addRawRoute,
  closeWithin,
  createHttpApp,
  type HttpApp,
  type HttpAppOptions,
} from './create-http-app.js';

class MemoryLog extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.lines.push(chunk.toString());
    done();
  }
  get text() {
    return this.lines.join('');
  }
}

describe('HTTP skeleton', () => {
  let app: HttpApp;
  let base: string;
  const log = new MemoryLog();
  let ready = true;

  async function start(extra: Partial<HttpAppOptions> = {}) {
    app = await createHttpApp({
      ...extra,
      logger: createLogger('info', log),
      title: 'test',
      version: '1.2.3',
      readiness: async () => {
        if (!ready) throw new Error('migrations not applied: hub/0002');
      },
    });
    app.post(
      '/things',
      {
        schema: {
          body: Type.Object(
            { name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 0 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => reply.status(201).send({ name: request.body.name }),
    );
    app.get('/conflict', async () => {
      throw new AppError('conflict', 'Project already linked', { details: { projectId: 'p1' } });
    });
    app.get('/limited', async () => {
      throw new AppError('rate_limited', 'Slow down', { headers: { 'retry-after': '7' } });
    });
    app.get('/bug', async () => {
      throw new Error('database password is hunter2');
    });
    app.get('/stuck', () => new Promise(() => {}));
    app.get('/slow', async () => {
      await new Promise((r) => setTimeout(r, 300));
      return { done: true };
    });
    app.get('/log-secret', async (request) => {
      request.log.info(
        { credentials: { clientSecret: 'shh-client', password: 'shh-pass' } },
        'registering credentials',
      );
      return {};
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  }

  afterEach(async () => {
    ready = true;
    await app.close();
  });

  it('answers health and readiness, and 503 with the reason when not ready', async () => {
    await start();
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
    ready = false;
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect((await notReady.json()).error).toMatchObject({
      code: 'unavailable',
      message: 'Not ready: migrations not applied: hub/0002',
    });
  });

  it('serves the OpenAPI document and its docs page from local assets', async () => {
    await start();
    const spec = await (await fetch(`${base}/api/openapi.json`)).json();
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info).toMatchObject({ title: 'test', version: '1.2.3' });
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/things']));
    expect(spec.components.schemas.ErrorResponse).toBeDefined();
    const docs = await fetch(`${base}/api/docs/`);
    expect(docs.status).toBe(200);
    const html = await docs.text();
    expect(html).toContain('swagger-ui');
    const script = html.match(/src="\.\/([^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${base}/api/docs/${script}`);
    expect(asset.status).toBe(200);
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  it('answers every error with a stable code, a message and the request id', async () => {
    await start();
    const notFound = await fetch(`${base}/nowhere?x=1`, { headers: { 'x-request-id': 'trace-123' } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-request-id')).toBe('trace-123');
    expect(await notFound.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /nowhere', requestId: 'trace-123' },
    });

    const conflict = await fetch(`${base}/conflict`);
    const conflictBody = await conflict.json();
    expect(conflict.status).toBe(409);
    expect(conflictBody.error).toMatchObject({
      code: 'conflict',
      message: 'Project already linked',
      details: { projectId: 'p1' },
    });
    expect(conflictBody.error.requestId).toBe(conflict.headers.get('x-request-id'));

    const limited = await fetch(`${base}/limited`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
  });

  it('rejects bad input with 4xx and a located message', async () => {
    await start();
    const post = (body: string, type = 'application/json') =>
      fetch(`${base}/things`, { method: 'POST', headers: { 'content-type': type }, body });

    const invalid = await post(JSON.stringify({ name: '', count: -1 }));
    expect(invalid.status).toBe(400);
    const invalidBody = await invalid.json();
    expect(invalidBody.error.code).toBe('validation_failed');
    expect(invalidBody.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ location: 'body/name' })]),
    );

    const malformed = await post('{"name": ');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('bad_request');

    const wrongType = await post('<thing name="x"/>', 'application/xml');
    expect(wrongType.status).toBe(415);
    expect((await wrongType.json()).error.code).toBe('unsupported_media_type');

    const tooLarge = await post(JSON.stringify({ name: 'x'.repeat(11 * 1024 * 1024), count: 1 }));
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).error.code).toBe('payload_too_large');

    expect((await post(JSON.stringify({ name: 'ok', count: 1 }))).status).toBe(201);
  });

  it('keeps the error contract for requests rejected before routing', async () => {
    await start();
    const badUrl = await fetch(`${base}/healthz/%E0%A4%A`);
    expect(badUrl.status).toBe(400);
    const badUrlBody = await badUrl.json();
    expect(badUrlBody.error).toMatchObject({ code: 'bad_request' });
    expect(badUrlBody.error.requestId).toEqual(expect.any(String));

    // Headers beyond Node's limit are refused by the HTTP parser itself.
    const raw = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(base);
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1.1 431 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ code: 'bad_request' });
  });

  it('cuts a stuck request when closing takes longer than allowed', async () => {
    await start();
    const stuck = fetch(`${base}/stuck`).catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 50));
    await closeWithin(app, 100);
    expect(await stuck).toBeInstanceOf(Error);
  });

  it('hides internal errors behind a generic 500 and logs them', async () => {
    await start();
    const response = await fetch(`${base}/bug`);
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body.error.code).toBe('internal');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(log.text).toContain(body.error.requestId);
  });

  it('keeps secrets out of the logs', async () => {
    await start();
    await fetch(`${base}/log-secret?secretKey=webhook-secret-value&projectId=p1`, {
      headers: { authorization: 'Bearer token-value-xyz' },
    });
    const text = log.text;
    expect(text).toContain('registering credentials');
    expect(text).toContain('projectId=p1');
    for (const secret of ['webhook-secret-value', 'token-value-xyz', 'shh-client', 'shh-pass'])
      expect(text).not.toContain(secret);
  });

  it('masks secret-named query parameters however their names are encoded', async () => {
    await start();
    const query = [
      'client%5Fsecret=s1',
      'secret%4Bey=s2',
      'Client+Secret=s3',
      'CLIENT_SECRET=s4',
      'access%255Ftoken=s5',
      'pass%77ord=s6',
      'api-key=s7',
      'projectId=p1',
    ].join('&');
    await fetch(`${base}/log-secret?${query}`);
    const line = log.lines.find((l) => l.includes('client%5Fsecret'));
    expect(line).toBeDefined();
    expect(line).toContain('projectId=p1');
    expect(line).toContain('client%5Fsecret=[REDACTED]');
    for (const secret of ['s1', 's2', 's3', 's4', 's5', 's6', 's7']) expect(line).not.toContain(`=${secret}`);
  });

  /** Opens a raw socket, writes `text`, and resolves with what came back once the server closed it. */
  function rawExchange(text: string): Promise<{ response: string; elapsedMs: number }> {
    const port = Number(new URL(base).port);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      let response = '';
      socket.on('data', (chunk) => (response += chunk));
      socket.on('close', () => resolve({ response, elapsedMs: Date.now() - started }));
      socket.on('error', reject);
    });
  }

  it('answers 408 and closes the socket when a client stalls in the body', async () => {
    await start({ requestTimeoutMs: 300 });
    const { response, elapsedMs } = await rawExchange(
      'POST /things HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"nam',
    );
    expect(response).toMatch(/^HTTP\/1.1 408 /);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)).error.message).toMatch(
      /not received in time/,
    );
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
    expect(elapsedMs).toBeLessThan(2000);
  });

  it('answers 408 when a client stalls in the headers', async () => {
    await start({ requestTimeoutMs: 300 });
    const { response, elapsedMs } = await rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(response).toMatch(/^HTTP\/1.1 408 /);
    expect(elapsedMs).toBeLessThan(2000);
  });

  it('applies a 30 s request timeout by default', async () => {
    await start();
    expect(app.server.requestTimeout).toBe(30_000);
    expect(app.server.headersTimeout).toBe(30_000);
  });

  it('finishes in-flight requests on close and refuses new ones', async () => {
    await start();
    const inFlight = fetch(`${base}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    const closing = app.close();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await closing;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  describe('a raw route (served on node:http ahead of Fastify)', () => {
    async function startRaw(extra: Partial<HttpAppOptions> = {}) {
      await start(extra);
      // Registered after listen: raw routes are looked up per request.
      addRawRoute(app, {
        method: 'POST',
        path: '/hooks/:tenant/in',
        bodyLimit: 64,
        handler: async ({ params, query, body, id }) => {
          const text = body.toString('utf8');
          if (text === 'conflict')
            throw new AppError('conflict', 'Seen before', { details: { tenant: params.tenant } });
          if (text === 'bug') throw new Error('database password is hunter2');
          if (text === 'slow') await new Promise((r) => setTimeout(r, 300));
          return { status: 202, body: { tenant: params.tenant, key: query.get('key'), text, id } };
        },
      });
    }
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain', ...headers },
      });

    it('answers with its params, query and body, and the request id echoed as Fastify does', async () => {
      await startRaw();
      const response = await post('/hooks/t1/in?key=k%201', 'hello', { 'x-request-id': 'abc-123' });
      expect(response.status).toBe(202);
      expect(response.headers.get('x-request-id')).toBe('abc-123');
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await response.json()).toEqual({ tenant: 't1', key: 'k 1', text: 'hello', id: 'abc-123' });
      const fresh = await post('/hooks/t1/in', 'x', { 'x-request-id': 'bad id with spaces' });
      expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('keeps the error contract: AppError codes, 500 without internals, 413 over the limit', async () => {
      await startRaw();
      const conflict = await post('/hooks/t1/in', 'conflict');
      expect(conflict.status).toBe(409);
      const conflictBody = await conflict.json();
      expect(conflictBody).toEqual({
        error: {
          code: 'conflict',
          message: 'Seen before',
          details: { tenant: 't1' },
          requestId: conflict.headers.get('x-request-id'),
        },
      });
      const bug = await post('/hooks/t1/in', 'bug');
      expect(bug.status).toBe(500);
      const bugText = await bug.text();
      expect(bugText).not.toContain('hunter2');
      expect(JSON.parse(bugText).error.code).toBe('internal');

      const declared = await post('/hooks/t1/in', 'x'.repeat(65));
      expect(declared.status).toBe(413);
      expect((await declared.json()).error.code).toBe('payload_too_large');
      // No content-length (chunked): refused as the body grows past the limit.
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('x'.repeat(40)));
          controller.enqueue(new TextEncoder().encode('x'.repeat(40)));
          controller.close();
        },
      });
      const chunked = await fetch(`${base}/hooks/t1/in`, {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
    });

    it('hands other methods and unmatched paths to Fastify', async () => {
      await startRaw();
      const get = await fetch(`${base}/hooks/t1/in`);
      expect(get.status).toBe(404);
      expect((await get.json()).error.message).toBe('No route for GET /hooks/t1/in');
      const deeper = await post('/hooks/t1/in/more', 'x');
      expect(deeper.status).toBe(404);
    });

    it('finishes its in-flight requests on close, ending their connection', async () => {
      await startRaw();
      const inFlight = post('/hooks/t1/in', 'slow');
      await new Promise((r) => setTimeout(r, 50));
      const closing = closeWithin(app, 2000);
      const response = await inFlight;
      expect(response.status).toBe(202);
      expect(response.headers.get('connection')).toBe('close');
      await closing;
    });
  });
});
