import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import { SapBuildError, SapBuildOAuthError } from './errors.js';
import type { SapBuildRuntime } from './runtime.js';

export const DEFAULT_CLIENT_NAME = 'SAP Cloud ALM';

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export interface SapBuildCredentials {
  clientId: string;
  clientSecret: string;
}

/** The OAuth client of the service instance (idempotent; re-sealed after a master-key change). */
export async function ensureSapBuildClient(
  ctx: SandboxContext,
  runtime: SapBuildRuntime,
): Promise<SapBuildCredentials> {
  const { db } = runtime;
  const find = () =>
    db.selectFrom('sapbuild_clients').selectAll().where('name', '=', DEFAULT_CLIENT_NAME).executeTakeFirst();
  let client = await find();
  if (!client) {
    // XSUAA client ids look like `sb-<uuid>!b123|xsuaa!b49390`; the shape helps spot mix-ups.
    await db
      .insertInto('sapbuild_clients')
      .values({
        client_id: `sb-${randomUUID()}!b1234|xsuaa!b49390`,
        name: DEFAULT_CLIENT_NAME,
        secret_sealed: ctx.secrets.seal(randomBytes(24).toString('base64url')),
        created_at: ctx.now(),
      })
      .execute();
    client = await find();
  }
  if (!client) throw new Error('SAP Build client missing after insert');
  let secret = ctx.secrets.open(client.secret_sealed);
  if (secret === undefined) {
    secret = randomBytes(24).toString('base64url');
    await db
      .updateTable('sapbuild_clients')
      .set({ secret_sealed: ctx.secrets.seal(secret) })
      .where('client_id', '=', client.client_id)
      .execute();
  }
  return { clientId: client.client_id, clientSecret: secret };
}

/** Basic credentials form-encoded by the client (RFC 6749 §2.3.1); broken escapes match no client. */
function decodeCredential(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** One string per field: repeated or structured values are refused rather than guessed at. */
function formFields(input: Record<string, unknown>): Record<string, string | undefined> {
  const form: Record<string, string | undefined> = {};
  for (const key of ['grant_type', 'client_id', 'client_secret']) {
    const value = input[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.includes('\u0000'))
      throw new SapBuildOAuthError(400, 'invalid_request', `Parameter ${key} must be a single string`);
    form[key] = value;
  }
  return form;
}

/** `POST /oauth/token` with the client-credentials grant; client in the form or as HTTP Basic. */
export async function clientCredentialsGrant(
  runtime: SapBuildRuntime,
  input: Record<string, unknown>,
  authorization: string | undefined,
): Promise<{ access_token: string; token_type: 'bearer'; expires_in: number; scope: string; jti: string }> {
  const { ctx, db } = runtime;
  const form = formFields(input);
  let clientId = form.client_id;
  let clientSecret = form.client_secret;
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      clientId = decodeCredential(decoded.slice(0, colon));
      clientSecret = decodeCredential(decoded.slice(colon + 1));
      // A broken escape in either half: Bad credentials, not a guess at what was meant.
      if (clientSecret === undefined) clientId = undefined;
    }
  }
  if (form.grant_type !== 'client_credentials')
    throw new SapBuildOAuthError(
      400,
      'unsupported_grant_type',
      `Unsupported grant type: ${form.grant_type ?? ''}`,
    );
  const client =
    clientId && !clientId.includes('\u0000')
      ? await db
          .selectFrom('sapbuild_clients')
          .selectAll()
          .where('client_id', '=', clientId)
          .executeTakeFirst()
      : undefined;
  const secret = client ? ctx.secrets.open(client.secret_sealed) : undefined;
  if (!client || secret === undefined || !same(secret, clientSecret ?? ''))
    throw new SapBuildOAuthError(401, 'unauthorized', 'Bad credentials');
  const token = randomBytes(32).toString('base64url');
  const now = ctx.now();
  await db
    .insertInto('sapbuild_tokens')
    .values({
      token_hash: hash(token),
      client_id: client.client_id,
      expires_at: now + runtime.tokenLifetimeSeconds * 1000,
    })
    .execute();
  // Expired tokens are useless; drop them as new ones come.
  await db.deleteFrom('sapbuild_tokens').where('expires_at', '<', now).execute();
  runtime.stats.tokensIssued++;
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: runtime.tokenLifetimeSeconds,
    scope: 'uaa.resource',
    jti: randomUUID().replaceAll('-', ''),
  };
}

/** The client id a bearer token was issued to, or a 401. */
export async function authenticate(
  runtime: SapBuildRuntime,
  authorization: string | undefined,
): Promise<string> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (bearer?.[1]) {
    const token = await runtime.db
      .selectFrom('sapbuild_tokens')
      .selectAll()
      .where('token_hash', '=', hash(bearer[1]))
      .executeTakeFirst();
    if (token && Number(token.expires_at) > runtime.ctx.now()) return token.client_id;
  }
  throw new SapBuildError(401, 'Unauthorized', { 'www-authenticate': 'Bearer realm="workflow"' });
}
