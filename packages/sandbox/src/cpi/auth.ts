import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { secretsEqual, verifyClientCredentials } from '../auth/clients.js';
import { authenticate } from '../auth/tokens.js';
import { CalmError } from '../shared/errors.js';
import { CPI_SCOPES, cpiDb, cpiSettings } from './service.js';

/** Who calls the Cloud Integration API, and how (CSRF protection applies to Basic sessions only). */
export interface CpiPrincipal {
  user: string;
  scopes: Set<string>;
  mode: 'oauth' | 'basic';
}

export const SESSION_COOKIE = 'JSESSIONID';
export const CSRF_FAILED = 'CSRF_TOKEN_VALIDATION_FAILED';
const MODIFYING = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'MERGE']);

function basicChallenge(message: string): CalmError {
  return new CalmError(401, message, {
    headers: { 'www-authenticate': 'Basic realm="SAP Cloud Integration"' },
  });
}

export async function createUser(
  ctx: SandboxContext,
  input: { name: string; password?: string | undefined },
): Promise<{ name: string; password: string }> {
  const db = cpiDb(ctx);
  const exists = await db
    .selectFrom('cpi_users')
    .select('name')
    .where('name', '=', input.name)
    .executeTakeFirst();
  if (exists) throw new CalmError(409, `User '${input.name}' already exists`);
  const password = input.password ?? `${randomBytes(18).toString('base64url')}$1`;
  await db
    .insertInto('cpi_users')
    .values({ name: input.name, password_sealed: ctx.secrets.seal(password), created_at: ctx.now() })
    .execute();
  return { name: input.name, password };
}

export async function listUsers(ctx: SandboxContext) {
  const rows = await cpiDb(ctx)
    .selectFrom('cpi_users')
    .select(['name', 'created_at'])
    .orderBy('name')
    .execute();
  return rows.map((row) => ({ name: row.name, createdAt: new Date(row.created_at).toISOString() }));
}

export async function deleteUser(ctx: SandboxContext, name: string): Promise<void> {
  const db = cpiDb(ctx);
  const result = await db.deleteFrom('cpi_users').where('name', '=', name).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new CalmError(404, `User '${name}' does not exist`);
  await db.deleteFrom('cpi_sessions').where('user_name', '=', name).execute();
}

/**
 * Basic credentials are a sandbox CPI user (every CPI role) or, as with the API plan's service
 * key, the OAuth client's id and secret (that client's CPI scopes).
 */
async function verifyBasic(
  ctx: SandboxContext,
  user: string,
  password: string,
): Promise<CpiPrincipal | undefined> {
  const row = await cpiDb(ctx)
    .selectFrom('cpi_users')
    .selectAll()
    .where('name', '=', user)
    .executeTakeFirst();
  if (row) {
    const stored = ctx.secrets.open(row.password_sealed);
    return stored !== undefined && secretsEqual(stored, password)
      ? { user, scopes: new Set(CPI_SCOPES), mode: 'basic' }
      : undefined;
  }
  const client = await verifyClientCredentials(ctx, user, password);
  const scopes = client?.scopes.filter((scope) => scope.startsWith('cpi.')) ?? [];
  return client && scopes.length > 0 ? { user, scopes: new Set(scopes), mode: 'basic' } : undefined;
}

export async function authenticateCpi(
  ctx: SandboxContext,
  authorization: string | undefined,
): Promise<CpiPrincipal> {
  if (!authorization) throw basicChallenge('Authentication is required (Basic or Bearer)');
  const basic = /^Basic\s+(\S+)$/i.exec(authorization);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const principal =
      colon > 0 ? await verifyBasic(ctx, decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
    if (!principal) throw basicChallenge('Bad credentials');
    return principal;
  }
  const principal = await authenticate(ctx, authorization);
  const scopes = [...principal.scopes].filter((scope) => scope.startsWith('cpi.'));
  if (scopes.length === 0) {
    throw new CalmError(403, 'The access token carries no Cloud Integration authority', {
      code: 'FORBIDDEN',
    });
  }
  return { user: principal.clientId, scopes: new Set(scopes), mode: 'oauth' };
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function liveSession(ctx: SandboxContext, request: FastifyRequest, user: string) {
  const id = cookieValue(request, SESSION_COOKIE);
  if (!id) return undefined;
  const row = await cpiDb(ctx).selectFrom('cpi_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && row.user_name === user && row.expires_at > ctx.now() ? row : undefined;
}

/**
 * The CSRF protocol of SAP's OData services: `X-CSRF-Token: Fetch` on a read opens (or reuses)
 * a session and answers its token plus the session cookie; every modifying Basic-auth call
 * must send both back. OAuth callers are stateless and exempt, as Piper's deploy step assumes.
 */
export async function applyCsrf(
  ctx: SandboxContext,
  request: FastifyRequest,
  reply: FastifyReply,
  principal: CpiPrincipal,
): Promise<void> {
  const header = request.headers['x-csrf-token'];
  const sent = Array.isArray(header) ? header[0] : header;
  if (sent?.toLowerCase() === 'fetch' && (request.method === 'GET' || request.method === 'HEAD')) {
    let session = await liveSession(ctx, request, principal.user);
    if (!session) {
      const now = ctx.now();
      session = {
        id: randomBytes(24).toString('hex').toUpperCase(),
        user_name: principal.user,
        csrf_token: randomBytes(16).toString('base64'),
        created_at: now,
        expires_at: now + cpiSettings(ctx).sessionTtlSeconds * 1000,
      };
      await cpiDb(ctx).insertInto('cpi_sessions').values(session).execute();
      // Secure cookies would never come back over the sandbox's usual plain-http URL.
      const secure = ctx.publicUrl().startsWith('https:') ? '; Secure; SameSite=None' : '';
      reply.header('set-cookie', `${SESSION_COOKIE}=${session.id}; Path=/cpi; HttpOnly${secure}`);
    }
    reply.header('x-csrf-token', session.csrf_token);
    return;
  }
  if (principal.mode !== 'basic' || !MODIFYING.has(request.method)) return;
  const session = await liveSession(ctx, request, principal.user);
  if (!session || !sent || !secretsEqual(sent, session.csrf_token)) {
    throw new CalmError(403, 'CSRF token validation failed', {
      code: CSRF_FAILED,
      headers: { 'x-csrf-token': 'Required' },
    });
  }
}
