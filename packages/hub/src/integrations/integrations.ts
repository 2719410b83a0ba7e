import { randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { requireProjectAction, roleInProject } from '../access/authorize.js';
import { type ProjectRole, roleAllows } from '../access/permissions.js';
import { iso, isoOrNull } from '../access/views.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import type { AuditKind } from '../audit/types.js';
import type { CalmProject } from '../connectors/cloud-alm/client.js';
import type { ResolvedCredential } from '../connectors/credential.js';
import { invalidField } from '../credentials/credential-input.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import type { IntegrationsTable } from '../store/tables.js';
import { loadIntegration } from './load-integration.js';
import { webhookPath, webhookUrl } from './webhook-url.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors' | 'publicBaseUrl'>;

export const EXTERNAL_SYSTEMS = ['SAP_CLOUD_ALM'] as const;
export type ExternalSystem = (typeof EXTERNAL_SYSTEMS)[number];

export interface WebhookView {
  url: string;
  /** For Cloud ALM's webhook Path field: no leading slash, as SAP's guides show it. */
  path: string;
  secretKey: string;
  rotatedAt: string | null;
}

export interface IntegrationView {
  id: string;
  projectId: string;
  name: string;
  description: string;
  externalSystem: ExternalSystem;
  credentialId: string;
  hostUrl: string;
  calmProject: { id: string; name: string };
  enabled: boolean;
  /** Only for callers allowed to read the webhook key (project admins). */
  webhook: WebhookView | null;
  createdAt: string;
  updatedAt: string;
}

function webhookOf(deps: Deps, row: IntegrationsTable): WebhookView {
  const secretKey = deps.secrets.open(row.webhook_secret_sealed);
  if (secretKey === undefined)
    throw new AppError('unprocessable', 'The webhook key cannot be opened with this master key; rotate it');
  const path = webhookPath(
    { tenantId: row.tenant_id, projectId: row.project_id, integrationId: row.id },
    secretKey,
  );
  return {
    url: webhookUrl(deps.publicBaseUrl(), path),
    path,
    secretKey,
    rotatedAt: isoOrNull(row.webhook_secret_rotated_at),
  };
}

function view(deps: Deps, row: IntegrationsTable, withSecret: boolean): IntegrationView {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    externalSystem: row.external_system as ExternalSystem,
    credentialId: row.credential_id,
    hostUrl: row.host_url,
    calmProject: { id: row.calm_project_id, name: row.calm_project_name },
    enabled: row.enabled === 1,
    webhook: withSecret ? webhookOf(deps, row) : null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

async function mayReadSecret(deps: Deps, actor: Actor, projectId: string): Promise<boolean> {
  const role = await roleInProject(deps.db, actor, projectId);
  return (
    role === 'tenant_admin' ||
    (role !== undefined && roleAllows(role as ProjectRole, 'integrations.read_secret'))
  );
}

const newSecretKey = () => randomBytes(32).toString('base64url');

/** The API base: the one typed, else the credential's (a service key's `endpoints.Api`). */
function apiUrlFor(credential: ResolvedCredential, hostUrl: string | undefined): string {
  const url = hostUrl?.trim().replace(/\/+$/, '') || credential.settings.apiUrl;
  if (!url)
    throw invalidField('hostUrl', 'is required: the credential has no API URL (endpoints.Api) to default to');
  return url;
}

/** The seed's project dropdown: Cloud ALM's live project list as the credential's client sees it. */
export async function listCalmProjects(
  deps: Deps,
  actor: Actor,
  projectId: string,
  input: { credentialId: string; hostUrl?: string | undefined },
): Promise<{ items: CalmProject[]; note: string | null }> {
  await requireProjectAction(deps.db, actor, projectId, 'integrations.manage');
  const credential = await resolveCredentialForProject(deps, actor.tenantId, projectId, input.credentialId);
  const items = await deps.connectors
    .cloudAlm(credential, apiUrlFor(credential, input.hostUrl))
    .listProjects();
  return {
    items,
    note:
      items.length === 0
        ? 'Cloud ALM lists no project for this client (tenants answer so when the client lacks project visibility). Type the project id; it is checked on save.'
        : null,
  };
}

async function checkCalmProject(
  deps: Deps,
  credential: ResolvedCredential,
  apiUrl: string,
  calmProjectId: string,
): Promise<CalmProject> {
  const project = await deps.connectors.cloudAlm(credential, apiUrl).getProject(calmProjectId.trim());
  if (!project)
    throw invalidField(
      'calmProjectId',
      `names no Cloud ALM project visible to the credential's client at ${apiUrl}`,
    );
  return project;
}

async function assertNameFree(deps: Deps, projectId: string, name: string, exceptId?: string): Promise<void> {
  let query = deps.db
    .selectFrom('hub_integrations')
    .select('id')
    .where('project_id', '=', projectId)
    .where('name', '=', name);
  if (exceptId) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst())
    throw new AppError('conflict', `The project already has an integration named "${name}"`, {
      details: { field: 'name' },
    });
}

export interface CreateIntegrationInput {
  name: string;
  description?: string | undefined;
  externalSystem?: ExternalSystem | undefined;
  credentialId: string;
  hostUrl?: string | undefined;
  calmProjectId: string;
  enabled?: boolean | undefined;
}

export async function createIntegration(
  deps: Deps,
  actor: Actor,
  projectId: string,
  input: CreateIntegrationInput,
  requestId?: string,
): Promise<IntegrationView> {
  await requireProjectAction(deps.db, actor, projectId, 'integrations.manage');
  const name = input.name.trim();
  await assertNameFree(deps, projectId, name);
  const credential = await resolveCredentialForProject(deps, actor.tenantId, projectId, input.credentialId);
  if (credential.system !== 'cloud_alm')
    throw invalidField('credentialId', 'must name an SAP Cloud ALM credential');
  const hostUrl = apiUrlFor(credential, input.hostUrl);
  const calmProject = await checkCalmProject(deps, credential, hostUrl, input.calmProjectId);
  const now = deps.clock.now();
  const row: IntegrationsTable = {
    id: randomUUID(),
    tenant_id: actor.tenantId,
    project_id: projectId,
    name,
    description: input.description?.trim() ?? '',
    external_system: input.externalSystem ?? 'SAP_CLOUD_ALM',
    credential_id: credential.id,
    host_url: hostUrl,
    calm_project_id: calmProject.id,
    calm_project_name: calmProject.name,
    enabled: input.enabled === false ? 0 : 1,
    webhook_secret_sealed: deps.secrets.seal(newSecretKey()),
    webhook_secret_rotated_at: null,
    created_by: actor.userId,
    created_at: now,
    updated_at: now,
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('hub_integrations').values(row).execute();
    await audit(trx, actor, requestId, 'integration.created', now, row, null, view(deps, row, false));
  });
  return view(deps, row, true);
}

/** The audit entry of an integration change: views without the webhook key. */
function audit(
  db: Deps['db'],
  actor: Actor,
  requestId: string | undefined,
  kind: AuditKind,
  at: number,
  row: IntegrationsTable,
  before: IntegrationView | null,
  after: IntegrationView | null,
): Promise<void> {
  return recordAudit(db, {
    ...userAudit(actor, requestId),
    tenantId: row.tenant_id,
    projectId: row.project_id,
    occurredAt: at,
    kind,
    object: { kind: 'integration', id: row.id, label: row.name },
    before,
    after,
  });
}

export async function listIntegrations(
  deps: Deps,
  actor: Actor,
  projectId: string,
): Promise<IntegrationView[]> {
  await requireProjectAction(deps.db, actor, projectId, 'integrations.read');
  const withSecret = await mayReadSecret(deps, actor, projectId);
  const rows = await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('project_id', '=', projectId)
    .orderBy('name')
    .execute();
  return rows.map((row) => view(deps, row, withSecret));
}

export async function getIntegration(deps: Deps, actor: Actor, id: string): Promise<IntegrationView> {
  const row = await loadIntegration(deps.db, actor, id, 'integrations.read');
  return view(deps, row, await mayReadSecret(deps, actor, row.project_id));
}

export async function getWebhook(deps: Deps, actor: Actor, id: string): Promise<WebhookView> {
  return webhookOf(deps, await loadIntegration(deps.db, actor, id, 'integrations.read_secret'));
}

export type UpdateIntegrationInput = Partial<Omit<CreateIntegrationInput, 'externalSystem'>>;

export async function updateIntegration(
  deps: Deps,
  actor: Actor,
  id: string,
  input: UpdateIntegrationInput,
  requestId?: string,
): Promise<IntegrationView> {
  const row = await loadIntegration(deps.db, actor, id, 'integrations.manage');
  const name = input.name?.trim();
  if (name !== undefined) await assertNameFree(deps, row.project_id, name, id);
  const changes: Partial<IntegrationsTable> = {
    ...(name === undefined ? {} : { name }),
    ...(input.description === undefined ? {} : { description: input.description.trim() }),
    ...(input.enabled === undefined ? {} : { enabled: input.enabled ? 1 : 0 }),
  };
  if (input.credentialId !== undefined || input.hostUrl !== undefined || input.calmProjectId !== undefined) {
    const credential = await resolveCredentialForProject(
      deps,
      actor.tenantId,
      row.project_id,
      input.credentialId ?? row.credential_id,
    );
    if (credential.system !== 'cloud_alm')
      throw invalidField('credentialId', 'must name an SAP Cloud ALM credential');
    const hostUrl = input.hostUrl === undefined ? row.host_url : apiUrlFor(credential, input.hostUrl);
    const calmProject = await checkCalmProject(
      deps,
      credential,
      hostUrl,
      input.calmProjectId ?? row.calm_project_id,
    );
    Object.assign(changes, {
      credential_id: credential.id,
      host_url: hostUrl,
      calm_project_id: calmProject.id,
      calm_project_name: calmProject.name,
    });
  }
  await saveChanges(deps, actor, row, changes, 'integration.updated', requestId);
  return getIntegration(deps, actor, id);
}

async function saveChanges(
  deps: Deps,
  actor: Actor,
  row: IntegrationsTable,
  changes: Partial<IntegrationsTable>,
  kind: AuditKind,
  requestId: string | undefined,
): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('hub_integrations')
      .set({ ...changes, updated_at: now })
      .where('id', '=', row.id)
      .where('tenant_id', '=', actor.tenantId)
      .execute();
    const next = { ...row, ...changes, updated_at: now };
    await audit(trx, actor, requestId, kind, now, next, view(deps, row, false), view(deps, next, false));
  });
}

export async function rotateWebhookSecret(
  deps: Deps,
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<WebhookView> {
  const row = await loadIntegration(deps.db, actor, id, 'integrations.manage');
  // The audit entry records that the key changed and when, never the key.
  await saveChanges(
    deps,
    actor,
    row,
    {
      webhook_secret_sealed: deps.secrets.seal(newSecretKey()),
      webhook_secret_rotated_at: deps.clock.now(),
    },
    'integration.webhook_key_rotated',
    requestId,
  );
  return getWebhook(deps, actor, id);
}

export async function deleteIntegration(
  deps: Deps,
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<void> {
  const row = await loadIntegration(deps.db, actor, id, 'integrations.manage');
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('hub_integrations')
      .where('id', '=', id)
      .where('tenant_id', '=', actor.tenantId)
      .execute();
    await audit(
      trx,
      actor,
      requestId,
      'integration.deleted',
      deps.clock.now(),
      row,
      view(deps, row, false),
      null,
    );
  });
}
