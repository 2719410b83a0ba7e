import { randomUUID } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import { tenantOf } from '../ctms/http.js';
import { checkStorable } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import type {
  CpiArtifactTable,
  CpiDb,
  CpiExecutor,
  CpiPackageTable,
  CpiRuntimeArtifactTable,
  CpiTables,
} from './tables.js';
import { readArtifactContent } from './zip.js';

export const DEPLOY_JOB = 'cpi.deploy';

export interface DeployJob {
  /** The sandbox's tenant id, for logs and diagnostics. */
  tenant: string;
  taskId: string;
}

/**
 * Scopes of the Cloud Integration API plan. They mirror the tenant's role templates
 * (WorkspacePackagesRead, WorkspacePackagesEdit, WorkspaceArtifactsDeploy, MonitoringDataRead);
 * the exact authority names are INFERRED.
 */
export const CPI_SCOPES = [
  'cpi.WorkspacePackagesRead',
  'cpi.WorkspacePackagesEdit',
  'cpi.WorkspaceArtifactsDeploy',
  'cpi.MonitoringDataRead',
] as const;
export type CpiScope = (typeof CPI_SCOPES)[number];

/** Durations the reference leaves open; adjustable through `PATCH /admin/cpi/settings`. */
export interface CpiSettings {
  /** How long a deployment stays DEPLOYING (default 3000 ms). */
  deployDurationMs: number;
  /** Lifetime of a Basic-auth session and its CSRF token (default 1800 s). */
  sessionTtlSeconds: number;
}

const settingsOf = new WeakMap<SandboxContext, CpiSettings>();

export function cpiSettings(ctx: SandboxContext): CpiSettings {
  let settings = settingsOf.get(ctx);
  if (!settings) {
    settings = { deployDurationMs: 3000, sessionTtlSeconds: 1800 };
    settingsOf.set(ctx, settings);
  }
  return settings;
}

export function cpiDb(ctx: SandboxContext): CpiDb {
  return ctx.store.db.withTables<CpiTables>();
}

/** OData v2 JSON date literal. */
export function odataDate(ms: number): string {
  return `/Date(${ms})/`;
}

const ID = /^[A-Za-z0-9_.-]{1,100}$/;

export function checkId(value: string, what: string): string {
  if (!ID.test(value))
    throw badRequest(`${what} '${value}' is invalid; use letters, digits, '_', '.' or '-'`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Entities

export function packageEntity(base: string, row: CpiPackageTable) {
  const uri = `${base}/IntegrationPackages('${row.id}')`;
  return {
    __metadata: { id: uri, uri, type: 'com.sap.hci.api.IntegrationPackage' },
    Id: row.id,
    Name: row.name,
    Description: row.description,
    ShortText: row.short_text,
    Version: row.version,
    Vendor: row.vendor,
    PartnerContent: false,
    UpdateAvailable: false,
    Mode: row.mode,
    SupportedPlatform: row.supported_platform,
    ModifiedBy: row.modified_by ?? '',
    CreationDate: String(row.creation_date),
    ModifiedDate: row.modified_date === null ? '' : String(row.modified_date),
    CreatedBy: row.created_by,
    Products: row.products,
    Keywords: row.keywords,
    Countries: row.countries,
    Industries: row.industries,
    LineOfBusiness: row.line_of_business,
    IntegrationDesigntimeArtifacts: { __deferred: { uri: `${uri}/IntegrationDesigntimeArtifacts` } },
  };
}

function artifactUri(base: string, id: string, version: string): string {
  return `${base}/IntegrationDesigntimeArtifacts(Id='${id}',Version='${version}')`;
}

export function artifactEntity(base: string, row: CpiArtifactTable) {
  const uri = artifactUri(base, row.id, row.version);
  return {
    __metadata: {
      id: uri,
      uri,
      type: 'com.sap.hci.api.IntegrationDesigntimeArtifact',
      content_type: 'application/octet-stream',
      media_src: `${uri}/$value`,
      edit_media: `${uri}/$value`,
    },
    Id: row.id,
    Version: row.version,
    PackageId: row.package_id,
    Name: row.name,
    Description: row.description,
    Sender: row.sender,
    Receiver: row.receiver,
    CreatedBy: row.created_by,
    CreatedAt: String(row.created_at),
    ModifiedBy: row.modified_by ?? '',
    ModifiedAt: row.modified_at === null ? '' : String(row.modified_at),
    ArtifactContent: null,
    Configurations: { __deferred: { uri: `${uri}/Configurations` } },
    Resources: { __deferred: { uri: `${uri}/Resources` } },
  };
}

export function runtimeEntity(base: string, row: CpiRuntimeArtifactTable) {
  const uri = `${base}/IntegrationRuntimeArtifacts('${row.id}')`;
  return {
    __metadata: {
      id: uri,
      uri,
      type: 'com.sap.hci.api.IntegrationRuntimeArtifact',
      content_type: 'application/octet-stream',
      media_src: `${uri}/$value`,
      edit_media: `${uri}/$value`,
    },
    Id: row.id,
    Version: row.version,
    Name: row.name,
    Type: row.type,
    DeployedBy: row.deployed_by,
    DeployedOn: odataDate(row.deployed_on),
    Status: row.status,
    ErrorInformation: { __deferred: { uri: `${uri}/ErrorInformation` } },
  };
}

// ---------------------------------------------------------------------------------------------
// Packages

export async function listPackages(ctx: SandboxContext) {
  return cpiDb(ctx).selectFrom('cpi_packages').selectAll().orderBy('id').execute();
}

export async function getPackage(db: CpiExecutor, id: string): Promise<CpiPackageTable> {
  const row = await db.selectFrom('cpi_packages').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`Integration package '${id}' does not exist`);
  return row;
}

export interface NewPackage {
  Id: string;
  Name: string;
  Description?: string | undefined;
  ShortText?: string | undefined;
  Version?: string | undefined;
  Vendor?: string | undefined;
  Products?: string | undefined;
  Keywords?: string | undefined;
  Countries?: string | undefined;
  Industries?: string | undefined;
  LineOfBusiness?: string | undefined;
}

export async function createPackage(ctx: SandboxContext, user: string, input: NewPackage) {
  const db = cpiDb(ctx);
  checkId(input.Id, 'Package Id');
  const exists = await db
    .selectFrom('cpi_packages')
    .select('id')
    .where('id', '=', input.Id)
    .executeTakeFirst();
  if (exists) throw new CalmError(409, `Integration package '${input.Id}' already exists`);
  const row: CpiPackageTable = {
    id: input.Id,
    name: input.Name,
    description: input.Description ?? '',
    short_text: input.ShortText ?? input.Name,
    version: input.Version ?? '1.0.0',
    vendor: input.Vendor ?? '',
    mode: 'EDIT_ALLOWED',
    supported_platform: 'SAP Cloud Integration',
    products: input.Products ?? '',
    keywords: input.Keywords ?? '',
    countries: input.Countries ?? '',
    industries: input.Industries ?? '',
    line_of_business: input.LineOfBusiness ?? '',
    created_by: user,
    creation_date: ctx.now(),
    modified_by: null,
    modified_date: null,
  };
  await db.insertInto('cpi_packages').values(row).execute();
  return row;
}

// ---------------------------------------------------------------------------------------------
// Design-time artifacts

export async function artifactsOfPackage(ctx: SandboxContext, packageId: string) {
  const db = cpiDb(ctx);
  await getPackage(db, packageId);
  return db
    .selectFrom('cpi_artifacts')
    .selectAll()
    .where('package_id', '=', packageId)
    .orderBy('id')
    .execute();
}

/** `Version='active'` is the current version; any other version must match it exactly. */
export async function getArtifact(db: CpiExecutor, id: string, version: string): Promise<CpiArtifactTable> {
  const row = await db.selectFrom('cpi_artifacts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (version !== 'active' && version !== row.version)) {
    throw notFound(
      `Integration design time artifact with Id '${id}' and Version '${version}' does not exist`,
    );
  }
  return row;
}

async function replaceConfigurations(
  db: CpiExecutor,
  artifactId: string,
  parameters: Record<string, string>,
) {
  await db.deleteFrom('cpi_configurations').where('artifact_id', '=', artifactId).execute();
  const rows = Object.entries(parameters).map(([key, value]) => ({
    artifact_id: artifactId,
    parameter_key: key,
    parameter_value: value,
    data_type: 'xsd:string',
  }));
  if (rows.length > 0) await db.insertInto('cpi_configurations').values(rows).execute();
}

export interface NewArtifact {
  Id: string;
  Name: string;
  PackageId: string;
  ArtifactContent: string;
  Description?: string | undefined;
}

export async function createArtifact(ctx: SandboxContext, user: string, input: NewArtifact) {
  checkId(input.Id, 'Artifact Id');
  const { bytes, content } = readArtifactContent(input.ArtifactContent);
  const db = cpiDb(ctx);
  return db.transaction().execute(async (trx) => {
    await getPackage(trx, input.PackageId);
    const exists = await trx
      .selectFrom('cpi_artifacts')
      .select('id')
      .where('id', '=', input.Id)
      .executeTakeFirst();
    if (exists) throw new CalmError(409, `Integration design time artifact '${input.Id}' already exists`);
    const row: CpiArtifactTable = {
      id: input.Id,
      package_id: input.PackageId,
      name: input.Name,
      description: input.Description ?? '',
      version: content.version ?? '1.0.0',
      content: bytes.toString('base64'),
      sender: '',
      receiver: '',
      created_by: user,
      created_at: ctx.now(),
      modified_by: null,
      modified_at: null,
      fail_deploy_message: null,
      fail_deploy_version: null,
    };
    await trx.insertInto('cpi_artifacts').values(row).execute();
    await replaceConfigurations(trx, row.id, content.parameters);
    return row;
  });
}

export async function updateArtifact(
  ctx: SandboxContext,
  user: string,
  id: string,
  version: string,
  input: {
    Name?: string | undefined;
    Description?: string | undefined;
    ArtifactContent?: string | undefined;
  },
): Promise<void> {
  const decoded =
    input.ArtifactContent === undefined ? undefined : readArtifactContent(input.ArtifactContent);
  const db = cpiDb(ctx);
  await db.transaction().execute(async (trx) => {
    const row = await getArtifact(trx, id, version);
    await trx
      .updateTable('cpi_artifacts')
      .set({
        ...(input.Name !== undefined ? { name: input.Name } : {}),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(decoded
          ? { content: decoded.bytes.toString('base64'), version: decoded.content.version ?? row.version }
          : {}),
        modified_by: user,
        modified_at: ctx.now(),
      })
      .where('id', '=', id)
      .execute();
    if (decoded) await replaceConfigurations(trx, id, decoded.content.parameters);
  });
}

export async function deleteArtifact(ctx: SandboxContext, id: string, version: string): Promise<void> {
  const db = cpiDb(ctx);
  await db.transaction().execute(async (trx) => {
    await getArtifact(trx, id, version);
    await trx.deleteFrom('cpi_configurations').where('artifact_id', '=', id).execute();
    await trx.deleteFrom('cpi_artifacts').where('id', '=', id).execute();
  });
}

export async function listConfigurations(ctx: SandboxContext, id: string, version: string) {
  const db = cpiDb(ctx);
  await getArtifact(db, id, version);
  return db
    .selectFrom('cpi_configurations')
    .selectAll()
    .where('artifact_id', '=', id)
    .orderBy('parameter_key')
    .execute();
}

export async function updateConfiguration(
  ctx: SandboxContext,
  input: { id: string; version: string; key: string; value: string; dataType: string | undefined },
): Promise<void> {
  const db = cpiDb(ctx);
  await getArtifact(db, input.id, input.version);
  const result = await db
    .updateTable('cpi_configurations')
    .set({
      parameter_value: input.value,
      ...(input.dataType !== undefined ? { data_type: input.dataType } : {}),
    })
    .where('artifact_id', '=', input.id)
    .where('parameter_key', '=', input.key)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    throw notFound(`Configuration parameter '${input.key}' does not exist for artifact '${input.id}'`);
  }
}

// ---------------------------------------------------------------------------------------------
// Deployment (asynchronous) and runtime

export async function deployArtifact(ctx: SandboxContext, user: string, id: string, version: string) {
  const db = cpiDb(ctx);
  // Read before the transaction: SQLite has one connection, which the transaction holds.
  const tenant = await tenantOf(ctx);
  return db.transaction().execute(async (trx) => {
    const artifact = await getArtifact(trx, id, version);
    const now = ctx.now();
    const taskId = randomUUID();
    await trx
      .insertInto('cpi_deploy_tasks')
      .values({
        task_id: taskId,
        artifact_id: artifact.id,
        version: artifact.version,
        status: 'DEPLOYING',
        created_by: user,
        created_at: now,
        ended_at: null,
      })
      .execute();
    const runtime = {
      version: artifact.version,
      name: artifact.name,
      type: 'INTEGRATION_FLOW',
      deployed_by: user,
      deployed_on: now,
      status: 'STARTING',
      error_information: null,
      task_id: taskId,
    };
    await trx
      .insertInto('cpi_runtime_artifacts')
      .values({ id: artifact.id, ...runtime })
      .onConflict((oc) => oc.column('id').doUpdateSet(runtime))
      .execute();
    await ctx.queue.enqueue(
      {
        name: DEPLOY_JOB,
        payload: { tenant, taskId } satisfies DeployJob,
        runAt: now + cpiSettings(ctx).deployDurationMs,
      },
      trx,
    );
    return taskId;
  });
}

/** The deploy job: ends the task in SUCCESS or FAIL; idempotent across retries. */
export async function finishDeploy(ctx: SandboxContext, taskId: string): Promise<void> {
  const db = cpiDb(ctx);
  await db.transaction().execute(async (trx) => {
    const task = await trx
      .selectFrom('cpi_deploy_tasks')
      .selectAll()
      .where('task_id', '=', taskId)
      .where('status', '=', 'DEPLOYING')
      .executeTakeFirst();
    if (!task) return;
    const now = ctx.now();
    const artifact = await trx
      .selectFrom('cpi_artifacts')
      .selectAll()
      .where('id', '=', task.artifact_id)
      .executeTakeFirst();
    const failsThisVersion =
      artifact?.fail_deploy_version === null || artifact?.fail_deploy_version === artifact?.version;
    const error = artifact
      ? failsThisVersion
        ? artifact.fail_deploy_message
        : null
      : `Integration design time artifact '${task.artifact_id}' was deleted during deployment`;
    await trx
      .updateTable('cpi_deploy_tasks')
      .set({ status: error ? 'FAIL' : 'SUCCESS', ended_at: now })
      .where('task_id', '=', taskId)
      .execute();
    // A newer deployment of the same artifact owns the runtime entry.
    await trx
      .updateTable('cpi_runtime_artifacts')
      .set({ status: error ? 'ERROR' : 'STARTED', error_information: error, deployed_on: now })
      .where('id', '=', task.artifact_id)
      .where('task_id', '=', taskId)
      .execute();
  });
}

export async function deployStatus(ctx: SandboxContext, taskId: string) {
  const row = await cpiDb(ctx)
    .selectFrom('cpi_deploy_tasks')
    .selectAll()
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  if (!row) throw notFound(`Build and deploy task '${taskId}' does not exist`);
  return row;
}

export async function listRuntime(ctx: SandboxContext, filter: Record<string, string>) {
  let query = cpiDb(ctx).selectFrom('cpi_runtime_artifacts').selectAll();
  const columns: Record<string, 'id' | 'status' | 'name' | 'type' | 'version'> = {
    Id: 'id',
    Status: 'status',
    Name: 'name',
    Type: 'type',
    Version: 'version',
  };
  for (const [field, value] of Object.entries(filter)) {
    const column = columns[field];
    if (!column)
      throw badRequest(`Filtering by '${field}' is not supported; use Id, Name, Status, Type or Version`);
    query = query.where(column, '=', value);
  }
  return query.orderBy('id').execute();
}

export async function getRuntime(ctx: SandboxContext, id: string): Promise<CpiRuntimeArtifactTable> {
  const row = await cpiDb(ctx)
    .selectFrom('cpi_runtime_artifacts')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound(`Integration runtime artifact '${id}' does not exist`);
  return row;
}

export async function undeploy(ctx: SandboxContext, id: string): Promise<void> {
  const result = await cpiDb(ctx).deleteFrom('cpi_runtime_artifacts').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0)
    throw notFound(`Integration runtime artifact '${id}' does not exist`);
}

export async function setDeployFailure(
  ctx: SandboxContext,
  id: string,
  message: string | null,
  version: string | null = null,
) {
  checkStorable(message ?? '', 'message');
  const db = cpiDb(ctx);
  const result = await db
    .updateTable('cpi_artifacts')
    .set({ fail_deploy_message: message, fail_deploy_version: message === null ? null : version })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0)
    throw notFound(`Integration design time artifact '${id}' does not exist`);
  return { id, failDeploy: message === null ? null : { message, version } };
}
