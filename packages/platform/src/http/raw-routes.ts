import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { AppError, codeForStatus } from '../errors/app-error.js';
import type { Logger } from '../logging/logger.js';
import { errorBody } from './error-handler.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A sane incoming `x-request-id` is echoed; otherwise a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export interface RawRequest {
  id: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How a raw route answers; the first call answers, later ones do nothing. */
export interface RawReply {
  /** A status and a JSON body. */
  send(status: number, body: unknown): void;
  /** An AppError answers with its status and code, as everywhere else; any other error is a 500 without internals. */
  fail(error: unknown): void;
}

export interface RawRoute {
  method: 'POST' | 'PUT';
  /** Fastify's syntax: `/a/:id/b`; a parameter is one path segment. */
  path: string;
  bodyLimit: number;
  /**
   * Answers the request through `reply`, or by the promise it returns (a status and a JSON body;
   * an AppError rejected answers as everywhere else). The reply needs no promise per request:
   * for an endpoint that answers many requests together (the webhook edge's group commit).
   */
  handler: (request: RawRequest, reply: RawReply) => Promise<{ status: number; body: unknown }> | undefined;
}

interface Compiled extends RawRoute {
  pattern: RegExp;
  names: string[];
}

const TOO_LARGE = 'Request body is too large';
const EMPTY = Buffer.alloc(0);

/**
 * Routes answered on `node:http` itself, before Fastify: for an endpoint whose whole cost must
 * stay close to a bare server's (the webhook edge under a burst), where Fastify's per-request
 * work (hooks, a child logger, content-type parsing, serialisation) costs more than the endpoint.
 * The contract is Fastify's: the same request id (echoed in `x-request-id`), the same error
 * bodies and codes, 413 above the body limit, 503 once closing. The endpoint stays registered in
 * Fastify too, so it is documented in the OpenAPI and reachable by `inject`; a request this does
 * not take (another method, an encoded path segment) goes on to Fastify.
 */
export class RawRoutes {
  private readonly routes: Compiled[] = [];
  closing = false;

  constructor(readonly logger: Logger) {}

  add(route: RawRoute): void {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/%]+)';
      })
      .join('/');
    this.routes.push({ ...route, pattern: new RegExp(`^${source}$`), names });
  }

  /** Takes the request when a route matches; false hands it on. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.routes.length === 0) return false;
    const url = request.url ?? '';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    for (const route of this.routes) {
      if (request.method !== route.method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      for (let index = 0; index < route.names.length; index++)
        params[route.names[index] as string] = match[index + 1] as string;
      this.serve(route, params, new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1)), request, response);
      return true;
    }
    return false;
  }

  private serve(
    route: Compiled,
    params: Record<string, string>,
    query: URLSearchParams,
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    const exchange = new Exchange(requestIdOf(request), params, query, request.headers, response, this);
    if (this.closing) {
      exchange.send(503, errorBody('unavailable', 'The server is shutting down', exchange.id));
      request.resume();
      return;
    }
    const declared = Number(request.headers['content-length']);
    if (declared > route.bodyLimit) {
      // Answered before the body is read; Node discards the body once the answer is sent and the
      // connection goes on. Closing it instead would reset it under a client still sending (one
      // that waited for Node's automatic `100 Continue`), and the client would never see the 413.
      exchange.send(413, errorBody(codeForStatus(413), TOO_LARGE, exchange.id));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > route.bodyLimit) {
        refused = true;
        chunks.length = 0;
        exchange.closeAfter = true;
        exchange.send(413, errorBody(codeForStatus(413), TOO_LARGE, exchange.id));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      exchange.body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      try {
        const answer = route.handler(exchange, exchange);
        answer?.then(
          (answered) => exchange.send(answered.status, answered.body),
          (error: unknown) => exchange.fail(error),
        );
      } catch (error) {
        exchange.fail(error);
      }
    });
  }
}

/** One request of a raw route, and its reply. */
class Exchange implements RawRequest, RawReply {
  body: Buffer = EMPTY;
  /** Answer with `connection: close` (a body refused while it was being sent). */
  closeAfter = false;

  constructor(
    readonly id: string,
    readonly params: Record<string, string>,
    readonly query: URLSearchParams,
    readonly headers: IncomingHttpHeaders,
    private readonly response: ServerResponse,
    private readonly routes: RawRoutes,
  ) {}

  send(status: number, body: unknown): void {
    const { response } = this;
    if (response.headersSent || response.destroyed) return;
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-request-id': this.id,
    };
    if (this.closeAfter || this.routes.closing) headers.connection = 'close';
    response.writeHead(status, headers);
    response.end(text);
  }

  fail(error: unknown): void {
    if (error instanceof AppError) {
      if (error.status >= 500) this.routes.logger.error({ err: error, reqId: this.id }, error.message);
      for (const [name, value] of Object.entries(error.headers)) this.response.setHeader(name, value);
      this.send(error.status, errorBody(error.code, error.message, this.id, error.details));
      return;
    }
    this.routes.logger.error({ err: error, reqId: this.id }, 'unhandled error');
    this.send(500, errorBody('internal', 'Internal error; quote the request id when reporting it.', this.id));
  }
}
