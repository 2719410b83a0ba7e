import { randomUUID } from 'node:crypto';
import { AppError, readJson, writeJson } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import {
  notFound,
  requireProjectAction,
  requireTenantAction,
  visibleProjectIds,
} from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import { iso, isoOrNull } from '../access/views.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import type { AuditKind } from '../audit/types.js';
import type {
  CredentialSecret,
  CredentialSettings,
  CredentialSystem,
  CredentialTestResult,
  CredentialType,
  ResolvedCredential,
} from '../connectors/credential.js';
import type { CredentialsTable } from '../store/tables.js';
import {
  type CredentialFields,
  defaultType,
  impliedSystem,
  invalidField,
  normaliseCredential,
} from './credential-input.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets'>;

/** Shown instead of every secret: the API never returns one. */
export const MASK = '********';

export interface CredentialView {
  id: string;
  name: string;
  type: CredentialType;
  system: CredentialSystem;
  scope: 'tenant' | 'project';
  projectId: string | null;
  settings: CredentialSettings;
  secret: string;
  lastTest: (CredentialTestResult & { at: string }) | null;
  createdAt: string;
  updatedAt: string;
  rotatedAt: string | null;
}

function view(row: CredentialsTable): CredentialView {
  return {
    id: row.id,
    name: row.name,
    type: row.type as CredentialType,
    system: row.system as CredentialSystem,
    scope: row.project_id === null ? 'tenant' : 'project',
    projectId: row.project_id,
    settings: readJson<CredentialSettings>(row.settings),
    secret: MASK,
    lastTest: row.last_test === null ? null : readJson(row.last_test),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    rotatedAt: isoOrNull(row.rotated_at),
  };
}

/** Global credentials are the tenant admins'; a project's own are its admins'. */
async function authorize(
  deps: Deps,
  actor: Actor,
  projectId: string | null,
  action: ProjectAction,
): Promise<void> {
  if (projectId !== null) return requireProjectAction(deps.db, actor, projectId, action);
  if (action !== 'credentials.read') requireTenantAction(actor, 'credentials.manage_global');
}

async function loadRow(
  deps: Deps,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<CredentialsTable> {
  const row = await deps.db
    .selectFrom('hub_credentials')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('credential', id);
  try {
    await authorize(deps, actor, row.project_id, action);
  } catch (error) {
    // A private credential of a project the caller cannot see is as absent as a missing one.
    if (error instanceof AppError && error.code === 'not_found') throw notFound('credential', id);
    throw error;
  }
  return row;
}

async function assertNameFree(deps: Deps, tenantId: string, name: string, exceptId?: string): Promise<void> {
  let query = deps.db
    .selectFrom('hub_credentials')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name);
  if (exceptId) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst())
    throw new AppError('conflict', `A credential named "${name}" already exists`, {
      details: { field: 'name' },
    });
}

export interface CreateCredentialInput extends CredentialFields {
  name: string;
  type?: CredentialType | undefined;
  system?: CredentialSystem | undefined;
  projectId?: string | undefined;
}

export async function createCredential(
  deps: Deps,
  actor: Actor,
  input: CreateCredentialInput,
  requestId?: string,
): Promise<CredentialView> {
  const projectId = input.projectId ?? null;
  await authorize(deps, actor, projectId, 'credentials.manage');
  // A pasted CTMS or Cloud Integration key says what it is: an OAuth client of that system.
  const type = input.type ?? defaultType(input.serviceKey);
  const system = input.system ?? (type === 'cloud_alm' ? 'cloud_alm' : impliedSystem(type, input.serviceKey));
  if (type === 'cloud_alm' && system !== 'cloud_alm')
    throw invalidField('system', 'must be cloud_alm for type cloud_alm');
  const { settings, secret } = normaliseCredential(type, input, system);
  const name = input.name.trim();
  await assertNameFree(deps, actor.tenantId, name);
  const now = deps.clock.now();
  const row: CredentialsTable = {
    id: randomUUID(),
    tenant_id: actor.tenantId,
    project_id: projectId,
    name,
    type,
    system,
    settings: writeJson(settings),
    secret_sealed: deps.secrets.seal(JSON.stringify(secret)),
    secret_version: 1,
    last_test: null,
    created_by: actor.userId,
    created_at: now,
    updated_at: now,
    rotated_at: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('hub_credentials').values(row).execute();
    await audit(trx, actor, requestId, 'credential.created', row, null, view(row));
  });
  return view(row);
}

/** The audit entry of a credential change: views only, so the secret is always masked. */
function audit(
  db: Deps['db'],
  actor: Actor,
  requestId: string | undefined,
  kind: AuditKind,
  row: CredentialsTable,
  before: CredentialView | null,
  after: CredentialView | null,
): Promise<void> {
  return recordAudit(db, {
    ...userAudit(actor, requestId),
    tenantId: row.tenant_id,
    projectId: row.project_id,
    occurredAt: row.updated_at,
    kind,
    object: { kind: 'credential', id: row.id, label: row.name },
    before,
    after,
  });
}

export async function listCredentials(
  deps: Deps,
  actor: Actor,
  filter: { projectId?: string | undefined },
): Promise<CredentialView[]> {
  let query = deps.db.selectFrom('hub_credentials').selectAll().where('tenant_id', '=', actor.tenantId);
  if (filter.projectId) {
    await requireProjectAction(deps.db, actor, filter.projectId, 'credentials.read');
    const projectId = filter.projectId;
    query = query.where((eb) => eb.or([eb('project_id', 'is', null), eb('project_id', '=', projectId)]));
  } else {
    const visible = await visibleProjectIds(deps.db, actor);
    if (visible !== 'all') {
      query = query.where((eb) =>
        visible.length === 0
          ? eb('project_id', 'is', null)
          : eb.or([eb('project_id', 'is', null), eb('project_id', 'in', visible)]),
      );
    }
  }
  return (await query.orderBy('name').execute()).map(view);
}

export async function getCredential(deps: Deps, actor: Actor, id: string): Promise<CredentialView> {
  return view(await loadRow(deps, actor, id, 'credentials.read'));
}

export interface UpdateCredentialInput {
  name?: string | undefined;
  settings?:
    | Partial<Pick<CredentialSettings, 'url' | 'tokenUrl' | 'apiUrl' | 'clientId' | 'username' | 'scope'>>
    | undefined;
}

/** Non-secret fields; a new secret goes through `rotateCredential`. */
export async function updateCredential(
  deps: Deps & Pick<HubDeps, 'connectors'>,
  actor: Actor,
  id: string,
  input: UpdateCredentialInput,
  requestId?: string,
): Promise<CredentialView> {
  const row = await loadRow(deps, actor, id, 'credentials.manage');
  const name = input.name?.trim();
  if (name !== undefined) await assertNameFree(deps, actor.tenantId, name, id);
  const current = readJson<CredentialSettings>(row.settings);
  const secret = openSecret(deps, row);
  // Re-normalise the merged fields, so an edit obeys the same rules as a creation.
  const merged = normaliseCredential(
    row.type as CredentialType,
    {
      ...current,
      ...input.settings,
      ...(row.type === 'basic' ? { password: secret.password } : { clientSecret: secret.clientSecret }),
      ...(row.type === 'basic' ? { tokenUrl: undefined, clientAuthentication: undefined } : {}),
    },
    row.system as CredentialSystem,
  );
  return saveChanges(deps, actor, row, 'credential.updated', requestId, {
    ...(name === undefined ? {} : { name }),
    settings: writeJson(merged.settings),
  });
}

/**
 * Writes a change that may affect authentication: the version bump makes cached tokens of the
 * old settings unreachable, and the connectors drop them.
 */
async function saveChanges(
  deps: Deps & Pick<HubDeps, 'connectors'>,
  actor: Actor,
  row: CredentialsTable,
  kind: AuditKind,
  requestId: string | undefined,
  changes: Partial<CredentialsTable>,
): Promise<CredentialView> {
  const next = { ...row, ...changes, secret_version: row.secret_version + 1, updated_at: deps.clock.now() };
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('hub_credentials')
      .set({ ...changes, secret_version: next.secret_version, updated_at: next.updated_at })
      .where('id', '=', row.id)
      .where('tenant_id', '=', actor.tenantId)
      .execute();
    await audit(trx, actor, requestId, kind, next, view(row), view(next));
  });
  deps.connectors.forget(row.id);
  return getCredential(deps, actor, row.id);
}

/** Replaces the secret (and, from a new service key, the client id). Cached tokens are dropped. */
export async function rotateCredential(
  deps: Deps & Pick<HubDeps, 'connectors'>,
  actor: Actor,
  id: string,
  input: Pick<CredentialFields, 'clientSecret' | 'password' | 'serviceKey'>,
  requestId?: string,
): Promise<CredentialView> {
  const row = await loadRow(deps, actor, id, 'credentials.manage');
  const type = row.type as CredentialType;
  const current = readJson<CredentialSettings>(row.settings);
  const { settings, secret } = normaliseCredential(
    type,
    {
      ...current,
      ...(input.serviceKey === undefined
        ? {}
        : { serviceKey: input.serviceKey, clientId: undefined, url: undefined, tokenUrl: undefined }),
      clientSecret: type === 'basic' ? undefined : input.clientSecret,
      password: type === 'basic' ? input.password : undefined,
    },
    row.system as CredentialSystem,
  );
  return saveChanges(deps, actor, row, 'credential.rotated', requestId, {
    settings: writeJson(settings),
    secret_sealed: deps.secrets.seal(JSON.stringify(secret)),
    rotated_at: deps.clock.now(),
    last_test: null,
  });
}

export async function deleteCredential(
  deps: Deps & Pick<HubDeps, 'connectors'>,
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<void> {
  const row = await loadRow(deps, actor, id, 'credentials.manage');
  const user = await deps.db
    .selectFrom('hub_integrations')
    .select(['id', 'name'])
    .where('credential_id', '=', id)
    .executeTakeFirst();
  if (user)
    throw new AppError('conflict', `The credential is used by the integration "${user.name}" (${user.id})`);
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('hub_credentials')
      .where('id', '=', id)
      .where('tenant_id', '=', actor.tenantId)
      .execute();
    await audit(
      trx,
      actor,
      requestId,
      'credential.deleted',
      { ...row, updated_at: deps.clock.now() },
      view(row),
      null,
    );
  });
  deps.connectors.forget(id);
}

export async function testCredential(
  deps: Deps & Pick<HubDeps, 'connectors'>,
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<CredentialTestResult & { at: string }> {
  const row = await loadRow(deps, actor, id, 'credentials.test');
  const result = await deps.connectors.testCredential(resolve(deps, row));
  const now = deps.clock.now();
  const outcome = { ...result, at: iso(now) };
  const tested = { ...row, last_test: writeJson(outcome) };
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('hub_credentials')
      .set({ last_test: tested.last_test })
      .where('id', '=', id)
      .execute();
    await audit(
      trx,
      actor,
      requestId,
      'credential.tested',
      { ...tested, updated_at: now },
      view(row),
      view(tested),
    );
  });
  return outcome;
}

function openSecret(deps: Pick<HubDeps, 'secrets'>, row: CredentialsTable): CredentialSecret {
  const plain = deps.secrets.open(row.secret_sealed);
  if (plain === undefined)
    throw new AppError(
      'unprocessable',
      `The secret of credential ${row.id} cannot be opened with this hub's master key; rotate it`,
    );
  return JSON.parse(plain) as CredentialSecret;
}

function resolve(deps: Pick<HubDeps, 'secrets'>, row: CredentialsTable): ResolvedCredential {
  return {
    id: row.id,
    version: row.secret_version,
    type: row.type as CredentialType,
    system: row.system as CredentialSystem,
    settings: readJson<CredentialSettings>(row.settings),
    secret: openSecret(deps, row),
  };
}

/**
 * A credential for use by another domain (integrations, sync): it must belong to the tenant and
 * be global or private to `projectId`. Errors name `field`.
 */
export async function resolveCredentialForProject(
  deps: Deps,
  tenantId: string,
  projectId: string,
  credentialId: string,
  field = 'credentialId',
): Promise<ResolvedCredential> {
  const row = await deps.db
    .selectFrom('hub_credentials')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', credentialId)
    .where((eb) => eb.or([eb('project_id', 'is', null), eb('project_id', '=', projectId)]))
    .executeTakeFirst();
  if (!row) throw invalidField(field, 'names no credential of this project or tenant');
  return resolve(deps, row);
}
