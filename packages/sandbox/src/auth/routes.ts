import type { HttpApp } from '@calmhub/platform';
import '../shared/fastify-schema.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { verifyClientCredentials } from './clients.js';
import { issueToken } from './tokens.js';

interface Credentials {
  clientId: string;
  clientSecret: string;
}

function field(source: unknown, key: string): string | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[key];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function decodeLenient(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/** Basic header first (XSUAA's preferred form), then form fields, then query parameters. */
function credentialsOf(request: FastifyRequest): Credentials[] {
  const candidates: Credentials[] = [];
  const header = request.headers.authorization;
  const basic = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      const clientId = decoded.slice(0, colon);
      const clientSecret = decoded.slice(colon + 1);
      candidates.push({ clientId, clientSecret });
      // RFC 6749 §2.3.1 asks clients to form-encode both parts first; XSUAA accepts either.
      const encoded = { clientId: decodeLenient(clientId), clientSecret: decodeLenient(clientSecret) };
      if (encoded.clientId !== clientId || encoded.clientSecret !== clientSecret) candidates.push(encoded);
    }
  }
  for (const source of [request.body, request.query]) {
    const clientId = field(source, 'client_id');
    const clientSecret = field(source, 'client_secret');
    if (clientId && clientSecret !== undefined) candidates.push({ clientId, clientSecret });
  }
  return candidates;
}

function oauthError(reply: FastifyReply, status: number, error: string, description: string) {
  if (status === 401) {
    reply.header(
      'www-authenticate',
      `Basic realm="UAA/client", error="${error}", error_description="${description}"`,
    );
  }
  return reply
    .status(status)
    .header('cache-control', 'no-store')
    .send({ error, error_description: description });
}

/** XSUAA's token endpoint (client credentials only) and its signing keys. */
export function registerAuthRoutes(app: HttpApp, ctx: SandboxContext): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const grantType = field(request.body, 'grant_type') ?? field(request.query, 'grant_type');
    if (!grantType) return oauthError(reply, 400, 'invalid_request', 'Missing grant type');
    if (grantType !== 'client_credentials') {
      return oauthError(reply, 400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
    }
    const candidates = credentialsOf(request);
    if (candidates.length === 0)
      return oauthError(
        reply,
        401,
        'unauthorized',
        'Full authentication is required to access this resource',
      );
    for (const candidate of candidates) {
      const client = await verifyClientCredentials(ctx, candidate.clientId, candidate.clientSecret);
      if (client) {
        const token = await issueToken(ctx, client);
        return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(token);
      }
    }
    return oauthError(reply, 401, 'unauthorized', 'Bad credentials');
  };
  const schema = { hide: true };
  app.post('/oauth/token', { schema }, handler);
  app.get('/oauth/token', { schema }, handler);
  // Project "Piper" asks for `{uaa.url}/oauth/token/?grant_type=...` (CTMS keys); XSUAA accepts it.
  app.post('/oauth/token/', { schema }, handler);
  const keys = async () => ({ keys: [ctx.keys.publicJwk] });
  app.get('/oauth/token_keys', { schema }, keys);
  app.get('/token_keys', { schema }, keys);
}
