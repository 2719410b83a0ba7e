import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import { JiraError } from './errors.js';
import type { JiraDb } from './tables.js';

export const DEFAULT_EMAIL = 'calm.integration@example.com';
export const DEFAULT_PROJECT = { key: 'CALM', id: '10000', name: 'SAP Cloud ALM' };

export interface JiraUser {
  email: string;
  accountId: string;
  displayName: string;
}

export interface JiraCredentials {
  email: string;
  apiToken: string;
  projectKey: string;
}

function same(a: string, b: string): boolean {
  // Hash first: timingSafeEqual needs equal lengths and must not leak the token's length.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Atlassian API tokens are opaque strings of this look (`ATATT3x…`); only the shape is imitated. */
const newToken = () => `ATATT3x${randomBytes(24).toString('base64url')}`;

/**
 * The integration user (e-mail + API token) and the `CALM` project every Jira emulator starts
 * with (idempotent). A token sealed under another master key (a copied database) is replaced.
 */
export async function ensureJiraDefaults(ctx: SandboxContext, db: JiraDb): Promise<JiraCredentials> {
  await db
    .insertInto('jira_projects')
    .values({ ...DEFAULT_PROJECT, next_number: 1 })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  await db
    .insertInto('jira_counters')
    .values({ name: 'issue', next: 10000 })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const user = await db
    .selectFrom('jira_users')
    .selectAll()
    .where('email', '=', DEFAULT_EMAIL)
    .executeTakeFirst();
  let apiToken = user ? ctx.secrets.open(user.token_sealed) : undefined;
  if (!user) {
    apiToken = newToken();
    await db
      .insertInto('jira_users')
      .values({
        email: DEFAULT_EMAIL,
        account_id: randomUUID().replaceAll('-', '').slice(0, 24),
        display_name: 'SAP Cloud ALM Integration',
        token_sealed: ctx.secrets.seal(apiToken),
        created_at: ctx.now(),
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
    // A concurrent start may have won the insert: read back what is stored.
    const stored = await db
      .selectFrom('jira_users')
      .select('token_sealed')
      .where('email', '=', DEFAULT_EMAIL)
      .executeTakeFirstOrThrow();
    apiToken = ctx.secrets.open(stored.token_sealed);
  }
  if (apiToken === undefined) {
    apiToken = newToken();
    await db
      .updateTable('jira_users')
      .set({ token_sealed: ctx.secrets.seal(apiToken) })
      .where('email', '=', DEFAULT_EMAIL)
      .execute();
  }
  return { email: DEFAULT_EMAIL, apiToken, projectKey: DEFAULT_PROJECT.key };
}

/** Basic `email:apiToken`, as Jira Cloud's REST API takes it; anything else is a 401. */
export async function authenticate(
  ctx: SandboxContext,
  db: JiraDb,
  authorization: string | undefined,
): Promise<JiraUser> {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // NUL cannot be compared on PostgreSQL, and no e-mail has one.
    if (colon > 0 && !decoded.slice(0, colon).includes('\u0000')) {
      const row = await db
        .selectFrom('jira_users')
        .selectAll()
        .where('email', '=', decoded.slice(0, colon))
        .executeTakeFirst();
      const token = row ? ctx.secrets.open(row.token_sealed) : undefined;
      if (row && token !== undefined && same(token, decoded.slice(colon + 1)))
        return { email: row.email, accountId: row.account_id, displayName: row.display_name };
    }
  }
  throw new JiraError(
    401,
    ['You are not authenticated. Authentication required to perform this operation.'],
    {},
    { 'www-authenticate': 'Basic realm="protected-area"' },
  );
}
