import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import { SnError } from './errors.js';
import { type Actor, newSysId } from './records.js';
import type { SnDb } from './tables.js';

export const DEFAULT_USER = 'calm.integration';
export const DEFAULT_CLIENT_NAME = 'SAP Cloud ALM';

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

function same(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

export interface SnUser {
  userName: string;
  sysId: string;
  name: string;
  createdAt: string;
}

export async function createUser(
  ctx: SandboxContext,
  db: SnDb,
  input: { userName: string; name?: string | undefined; password?: string | undefined },
): Promise<SnUser & { password: string }> {
  if (!/^[A-Za-z0-9_.@-]{1,100}$/.test(input.userName))
    throw new SnError(400, 'Invalid user_name', 'letters, digits, _ . @ - only');
  if (
    await db
      .selectFrom('snow_users')
      .select('user_name')
      .where('user_name', '=', input.userName)
      .executeTakeFirst()
  )
    throw new SnError(409, 'Operation Failed', `user ${input.userName} already exists`);
  const password = input.password ?? randomBytes(18).toString('base64url');
  const row = {
    user_name: input.userName,
    sys_id: newSysId(),
    name: input.name ?? input.userName,
    password_sealed: ctx.secrets.seal(password),
    created_at: ctx.now(),
  };
  await db.insertInto('snow_users').values(row).execute();
  return {
    userName: row.user_name,
    sysId: row.sys_id,
    name: row.name,
    createdAt: new Date(row.created_at).toISOString(),
    password,
  };
}

export async function listUsers(db: SnDb): Promise<SnUser[]> {
  const rows = await db
    .selectFrom('snow_users')
    .select(['user_name', 'sys_id', 'name', 'created_at'])
    .orderBy('user_name')
    .execute();
  return rows.map((row) => ({
    userName: row.user_name,
    sysId: row.sys_id,
    name: row.name,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  }));
}

export async function createOAuthClient(
  ctx: SandboxContext,
  db: SnDb,
  input: { name: string; userName: string },
): Promise<{ clientId: string; clientSecret: string; name: string; userName: string }> {
  if (
    !(await db
      .selectFrom('snow_users')
      .select('user_name')
      .where('user_name', '=', input.userName)
      .executeTakeFirst())
  )
    throw new SnError(400, 'Invalid user', `no user ${input.userName}`);
  const clientId = randomBytes(16).toString('hex');
  const clientSecret = randomBytes(12).toString('base64url');
  await db
    .insertInto('snow_oauth_clients')
    .values({
      client_id: clientId,
      name: input.name,
      secret_sealed: ctx.secrets.seal(clientSecret),
      user_name: input.userName,
      created_at: ctx.now(),
    })
    .execute();
  return { clientId, clientSecret, name: input.name, userName: input.userName };
}

export async function listOAuthClients(
  db: SnDb,
): Promise<{ clientId: string; name: string; userName: string }[]> {
  const rows = await db
    .selectFrom('snow_oauth_clients')
    .select(['client_id', 'name', 'user_name'])
    .orderBy('created_at')
    .execute();
  return rows.map((row) => ({ clientId: row.client_id, name: row.name, userName: row.user_name }));
}

export interface DefaultCredentials {
  user: { userName: string; password: string };
  oauth: { clientId: string; clientSecret: string };
}

/** The integration user and OAuth client every ServiceNow emulator starts with (idempotent). */
export async function ensureDefaultCredentials(ctx: SandboxContext, db: SnDb): Promise<DefaultCredentials> {
  let user = await db
    .selectFrom('snow_users')
    .selectAll()
    .where('user_name', '=', DEFAULT_USER)
    .executeTakeFirst();
  if (!user) {
    await createUser(ctx, db, { userName: DEFAULT_USER, name: 'SAP Cloud ALM Integration' });
    user = await db
      .selectFrom('snow_users')
      .selectAll()
      .where('user_name', '=', DEFAULT_USER)
      .executeTakeFirstOrThrow();
  }
  let client = await db
    .selectFrom('snow_oauth_clients')
    .selectAll()
    .where('user_name', '=', DEFAULT_USER)
    .where('name', '=', DEFAULT_CLIENT_NAME)
    .executeTakeFirst();
  if (!client) {
    await createOAuthClient(ctx, db, { name: DEFAULT_CLIENT_NAME, userName: DEFAULT_USER });
    client = await db
      .selectFrom('snow_oauth_clients')
      .selectAll()
      .where('user_name', '=', DEFAULT_USER)
      .where('name', '=', DEFAULT_CLIENT_NAME)
      .executeTakeFirstOrThrow();
  }
  // Sealed with another master key (a copied database): new secrets, as a rotation would give.
  let password = ctx.secrets.open(user.password_sealed);
  if (password === undefined) {
    password = randomBytes(18).toString('base64url');
    await db
      .updateTable('snow_users')
      .set({ password_sealed: ctx.secrets.seal(password) })
      .where('user_name', '=', DEFAULT_USER)
      .execute();
  }
  let secret = ctx.secrets.open(client.secret_sealed);
  if (secret === undefined) {
    secret = randomBytes(12).toString('base64url');
    await db
      .updateTable('snow_oauth_clients')
      .set({ secret_sealed: ctx.secrets.seal(secret) })
      .where('client_id', '=', client.client_id)
      .execute();
  }
  return {
    user: { userName: DEFAULT_USER, password },
    oauth: { clientId: client.client_id, clientSecret: secret },
  };
}

async function userActor(db: SnDb, userName: string): Promise<Actor | undefined> {
  const row = await db
    .selectFrom('snow_users')
    .select(['user_name', 'sys_id'])
    .where('user_name', '=', userName)
    .executeTakeFirst();
  return row ? { userName: row.user_name, userSysId: row.sys_id } : undefined;
}

async function checkPassword(
  ctx: SandboxContext,
  db: SnDb,
  userName: string,
  password: string,
): Promise<Actor | undefined> {
  if (userName.includes('\u0000')) return undefined;
  const row = await db
    .selectFrom('snow_users')
    .selectAll()
    .where('user_name', '=', userName)
    .executeTakeFirst();
  const stored = row ? ctx.secrets.open(row.password_sealed) : undefined;
  if (!row || stored === undefined || !same(stored, password)) return undefined;
  return { userName: row.user_name, userSysId: row.sys_id };
}

const unauthenticated = () =>
  new SnError(401, 'User Not Authenticated', 'Required to provide Auth information', {
    'www-authenticate': 'BASIC realm="Service-now"',
  });

/** Basic credentials of a user, or a bearer token from `oauth_token.do`. */
export async function authenticate(
  ctx: SandboxContext,
  db: SnDb,
  authorization: string | undefined,
): Promise<Actor> {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const actor =
      colon > 0 ? await checkPassword(ctx, db, decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
    if (!actor)
      throw new SnError(401, 'User is not authenticated', 'Required to provide Auth information', {
        'www-authenticate': 'BASIC realm="Service-now"',
      });
    return actor;
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (bearer?.[1]) {
    const token = await db
      .selectFrom('snow_tokens')
      .selectAll()
      .where('token_hash', '=', hash(bearer[1]))
      .where('kind', '=', 'access')
      .executeTakeFirst();
    const actor =
      token && Number(token.expires_at) > ctx.now() ? await userActor(db, token.user_name) : undefined;
    if (!actor) throw new SnError(401, 'User is not authenticated', 'Required to provide Auth information');
    return actor;
  }
  throw unauthenticated();
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  scope: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** OAuth error answers of `oauth_token.do` (ServiceNow's own quirky wording). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, string>,
  ) {
    super(body.error_description ?? body.error ?? 'oauth error');
  }
}

const accessDenied = () => new OAuthError(401, { error_description: 'access_denied', error: 'server_error' });

async function issue(
  ctx: SandboxContext,
  db: SnDb,
  clientId: string,
  userName: string,
  lifetime: number,
  refresh: boolean,
): Promise<TokenResponse> {
  const accessToken = randomBytes(32).toString('base64url');
  const now = ctx.now();
  await db
    .insertInto('snow_tokens')
    .values({
      token_hash: hash(accessToken),
      kind: 'access',
      client_id: clientId,
      user_name: userName,
      expires_at: now + lifetime * 1000,
    })
    .execute();
  const response: TokenResponse = {
    access_token: accessToken,
    scope: 'useraccount',
    token_type: 'Bearer',
    expires_in: lifetime,
  };
  if (refresh) {
    const refreshToken = randomBytes(32).toString('base64url');
    await db
      .insertInto('snow_tokens')
      .values({
        token_hash: hash(refreshToken),
        kind: 'refresh',
        client_id: clientId,
        user_name: userName,
        expires_at: now + 100 * 86_400_000,
      })
      .execute();
    response.refresh_token = refreshToken;
  }
  // Expired tokens are useless; drop them as new ones come.
  await db.deleteFrom('snow_tokens').where('expires_at', '<', now).execute();
  return response;
}

/** A form field as one string; repeated (array) or non-string values are the client's mistake. */
function formField(form: Record<string, unknown>, key: string): string | undefined {
  const value = form[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new OAuthError(400, { error: 'invalid_request', error_description: `${key} must be given once` });
  // PostgreSQL cannot compare text with NUL in it; no client, user or token has one.
  if (value.includes('\u0000'))
    throw new OAuthError(400, { error: 'invalid_request', error_description: `${key} is malformed` });
  return value;
}

/** Basic credentials form-encoded by the client (RFC 6749 §2.3.1); broken escapes match no client. */
function decodeCredential(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** `POST /oauth_token.do`: client_credentials, password and refresh_token grants (reference §8). */
export async function tokenGrant(
  ctx: SandboxContext,
  db: SnDb,
  input: Record<string, unknown>,
  authorization: string | undefined,
  lifetime: number,
): Promise<TokenResponse> {
  const form: Record<string, string | undefined> = {};
  for (const key of ['grant_type', 'client_id', 'client_secret', 'username', 'password', 'refresh_token'])
    form[key] = formField(input, key);
  let clientId = form.client_id;
  let clientSecret = form.client_secret;
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic?.[1] && !clientId) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const id = decodeCredential(decoded.slice(0, Math.max(0, colon)));
    const secret = decodeCredential(decoded.slice(colon + 1));
    if (id !== undefined && secret !== undefined) {
      clientId = id;
      clientSecret = secret;
    }
  }
  const grant = form.grant_type;
  if (!grant)
    throw new OAuthError(400, { error: 'invalid_request', error_description: 'grant_type is required' });
  if (!['client_credentials', 'password', 'refresh_token'].includes(grant))
    throw new OAuthError(400, {
      error: 'unsupported_grant_type',
      error_description: `grant type ${grant} is not supported`,
    });
  const client =
    clientId && !clientId.includes('\u0000')
      ? await db
          .selectFrom('snow_oauth_clients')
          .selectAll()
          .where('client_id', '=', clientId)
          .executeTakeFirst()
      : undefined;
  const secret = client ? ctx.secrets.open(client.secret_sealed) : undefined;
  if (!client || secret === undefined || !same(secret, clientSecret ?? '')) throw accessDenied();
  if (grant === 'client_credentials')
    return issue(ctx, db, client.client_id, client.user_name, lifetime, false);
  if (grant === 'password') {
    const actor = await checkPassword(ctx, db, form.username ?? '', form.password ?? '');
    if (!actor) throw accessDenied();
    return issue(ctx, db, client.client_id, actor.userName, lifetime, true);
  }
  const stored = await db
    .selectFrom('snow_tokens')
    .selectAll()
    .where('token_hash', '=', hash(form.refresh_token ?? ''))
    .where('kind', '=', 'refresh')
    .where('client_id', '=', client.client_id)
    .executeTakeFirst();
  if (!stored || Number(stored.expires_at) <= ctx.now()) throw accessDenied();
  return issue(ctx, db, client.client_id, stored.user_name, lifetime, true);
}
