import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError, constantTimeEqual } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Clock } from '../app/deps.js';
import { inTransaction, OPERATOR_AUDIT, recordAudit, userAudit } from '../audit/record-audit.js';
import type { AuditContext } from '../audit/types.js';
import type { ApiTokensTable, HubTables } from '../store/tables.js';
import type { Actor } from './actor.js';

const TOKEN = /^chub_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
/** Writing `last_used_at` on every request would turn reads into writes; once a minute is enough. */
const LAST_USED_RESOLUTION_MS = 60_000;

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function tokenId(compact: string): string {
  return `${compact.slice(0, 8)}-${compact.slice(8, 12)}-${compact.slice(12, 16)}-${compact.slice(16, 20)}-${compact.slice(20)}`;
}

export interface TokenView {
  id: string;
  userId: string;
  name: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function tokenView(row: ApiTokensTable): TokenView {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    lastUsedAt: iso(row.last_used_at),
    createdAt: iso(row.created_at) as string,
  };
}

export interface IssueTokenInput {
  tenantId: string;
  userId: string;
  name: string;
  /** Epoch ms; null never expires. */
  expiresAt: number | null;
}

/**
 * Creates a token and returns it in clear, the only time it exists outside the caller's hands.
 * `by`: who asks, for the audit log (an operator command on the store when left out); the entry
 * holds the token's view, never the token.
 */
export async function issueToken(
  deps: { db: Kysely<HubTables>; clock: Clock },
  input: IssueTokenInput,
  by: AuditContext = OPERATOR_AUDIT,
): Promise<{ token: string; view: TokenView }> {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  const row: ApiTokensTable = {
    id,
    tenant_id: input.tenantId,
    user_id: input.userId,
    name: input.name,
    secret_hash: hashSecret(secret),
    expires_at: input.expiresAt,
    revoked_at: null,
    last_used_at: null,
    created_at: deps.clock.now(),
  };
  await inTransaction(deps.db, async (trx) => {
    await trx.insertInto('hub_api_tokens').values(row).execute();
    await recordAudit(trx, {
      ...by,
      tenantId: input.tenantId,
      projectId: null,
      occurredAt: row.created_at,
      kind: 'token.created',
      object: { kind: 'token', id, label: row.name },
      after: tokenView(row),
    });
  });
  return { token: `chub_${id.replaceAll('-', '')}_${secret}`, view: tokenView(row) };
}

/** Resolves a bearer token to its actor; every failure is the same 401, whatever was wrong. */
export async function authenticateToken(
  deps: { db: Kysely<HubTables>; clock: Clock },
  token: string | undefined,
): Promise<Actor> {
  const unauthorized = new AppError(
    'unauthorized',
    'A valid API token is required (Authorization: Bearer <token>).',
    {
      headers: { 'www-authenticate': 'Bearer realm="calmhub"' },
    },
  );
  const match = token ? TOKEN.exec(token) : null;
  if (!match) throw unauthorized;
  const id = tokenId(match[1] as string);
  const row = await deps.db
    .selectFrom('hub_api_tokens')
    .innerJoin('hub_users', 'hub_users.id', 'hub_api_tokens.user_id')
    .select([
      'hub_api_tokens.secret_hash',
      'hub_api_tokens.expires_at',
      'hub_api_tokens.revoked_at',
      'hub_api_tokens.last_used_at',
      'hub_api_tokens.tenant_id',
      'hub_users.id as user_id',
      'hub_users.email',
      'hub_users.tenant_role',
    ])
    .where('hub_api_tokens.id', '=', id)
    .executeTakeFirst();
  // Hash even when the id is unknown, so timing does not tell which ids exist.
  const presented = hashSecret(match[2] as string);
  const valid = constantTimeEqual(presented, row?.secret_hash ?? '0'.repeat(64));
  const now = deps.clock.now();
  if (!row || !valid || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
    throw unauthorized;
  }
  if (row.last_used_at === null || now - row.last_used_at > LAST_USED_RESOLUTION_MS) {
    await deps.db.updateTable('hub_api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }
  return {
    tenantId: row.tenant_id,
    userId: row.user_id,
    email: row.email,
    tenantRole: row.tenant_role,
    tokenId: id,
  };
}

export async function listTokens(deps: { db: Kysely<HubTables> }, actor: Actor): Promise<TokenView[]> {
  const rows = await deps.db
    .selectFrom('hub_api_tokens')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('user_id', '=', actor.userId)
    .orderBy('created_at')
    .execute();
  return rows.map(tokenView);
}

/** Revokes one of the caller's tokens; tenant admins may revoke any token of their tenant. */
export async function revokeToken(
  deps: { db: Kysely<HubTables>; clock: Clock },
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<TokenView> {
  const row = await deps.db
    .selectFrom('hub_api_tokens')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No API token with id ${id}`);
  if (row.user_id !== actor.userId && actor.tenantRole !== 'admin')
    throw new AppError('forbidden', "Not allowed to revoke another user's token: this needs a tenant admin", {
      details: { action: 'users.manage' },
    });
  if (row.revoked_at !== null) return tokenView(row);
  const revokedAt = deps.clock.now();
  const after = tokenView({ ...row, revoked_at: revokedAt });
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('hub_api_tokens').set({ revoked_at: revokedAt }).where('id', '=', id).execute();
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: null,
      occurredAt: revokedAt,
      kind: 'token.revoked',
      object: { kind: 'token', id, label: row.name },
      before: tokenView(row),
      after,
    });
  });
  return after;
}
