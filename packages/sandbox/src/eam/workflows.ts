import { randomUUID } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import type { Transaction } from 'kysely';
import { type EventType, withEvents } from '../events/events.js';
import { FEATURE_PRIORITIES, statusName } from '../features/catalog.js';
import { toFeature } from '../features/entities.js';
import { asBody, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import type { SandboxTables } from '../store/tables.js';
import { toTask } from '../tasks/service.js';
import { compiledMapping } from './mappings.js';
import { type ChangeEnvelope, deliverySpec, newDelivery } from './push/engine.js';
import type { EamRuntime } from './runtime.js';
import type { EamAllTables, EamExecutor, EamWorkflowTable } from './tables.js';

/**
 * Workflow types of the "Workflow settings" (reference §1, §4.3: requirement approval, feature
 * test confirmation, document approval). The literals are INFERRED.
 */
export const WORKFLOW_TYPES = ['FEATURE_APPROVAL', 'REQUIREMENT_APPROVAL', 'DOCUMENT_APPROVAL'] as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];

export interface WorkflowSetting {
  projectId: string;
  workflowType: WorkflowType;
  subscriptionId: string;
  createdAt: string;
}

export interface Workflow {
  id: string;
  workflowType: WorkflowType;
  projectId: string;
  itemId: string;
  item: Record<string, unknown>;
  triggeredBy: string;
  subscriptionId: string;
  /** RUNNING, CANCELED (here), or COMPLETED / FAILED once the external status is terminal. */
  status: 'RUNNING' | 'CANCELED' | 'COMPLETED' | 'FAILED';
  createdAt: string;
  updatedAt: string;
  canceledAt: string | null;
  /** The external instance (`externalIdProperty`, else the mapped `externalResourceId`). */
  externalId: string | null;
  /** Mapped `externalResourceStatus` (SAP's mapping: STARTED | COMPLETED | FAILED), else `externalStatus`. */
  externalStatus: string | null;
  externalDecision: unknown;
  externalApprovers: unknown;
  /** Every field the response mappings wrote. */
  external: Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

function readWorkflowType(value: string): WorkflowType {
  if (!(WORKFLOW_TYPES as readonly string[]).includes(value))
    throw badRequest(`Workflow type must be one of ${WORKFLOW_TYPES.join(', ')}`);
  return value as WorkflowType;
}

// Workflow settings: which subscription handles which workflow type in a project.

export async function listWorkflowSettings(db: EamExecutor, projectId: string): Promise<WorkflowSetting[]> {
  const rows = await db
    .selectFrom('eam_workflow_settings')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('workflow_type')
    .execute();
  return rows.map((row) => ({
    projectId: row.project_id,
    workflowType: row.workflow_type as WorkflowType,
    subscriptionId: row.subscription_id,
    createdAt: iso(Number(row.created_at)),
  }));
}

export async function putWorkflowSetting(
  runtime: EamRuntime,
  projectId: string,
  type: string,
  raw: unknown,
): Promise<WorkflowSetting> {
  const workflowType = readWorkflowType(type);
  const body = asBody(raw);
  rejectUnknown(body, ['subscriptionId']);
  const subscriptionId = requiredStr(body, 'subscriptionId', 100);
  const project = await runtime.db
    .selectFrom('sandbox_projects')
    .select('id')
    .where('id', '=', projectId)
    .executeTakeFirst();
  if (!project) throw notFound(`No project ${projectId}`);
  const subscription = await runtime.db
    .selectFrom('eam_subscriptions')
    .select('resource_type')
    .where('id', '=', subscriptionId)
    .executeTakeFirst();
  if (!subscription) throw badRequest(`No subscription ${subscriptionId}`);
  if (subscription.resource_type !== 'WORKFLOW')
    throw badRequest(`Subscription ${subscriptionId} manages ${subscription.resource_type}, not WORKFLOW`);
  const now = runtime.ctx.now();
  await runtime.db
    .insertInto('eam_workflow_settings')
    .values({
      project_id: projectId,
      workflow_type: workflowType,
      subscription_id: subscriptionId,
      created_at: now,
    })
    .onConflict((oc) =>
      oc
        .columns(['project_id', 'workflow_type'])
        .doUpdateSet({ subscription_id: subscriptionId, created_at: now }),
    )
    .execute();
  return { projectId, workflowType, subscriptionId, createdAt: iso(now) };
}

export async function deleteWorkflowSetting(
  runtime: EamRuntime,
  projectId: string,
  type: string,
): Promise<void> {
  const workflowType = readWorkflowType(type);
  const result = await runtime.db
    .deleteFrom('eam_workflow_settings')
    .where('project_id', '=', projectId)
    .where('workflow_type', '=', workflowType)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0)
    throw notFound(`No ${workflowType} workflow setting in project ${projectId}`);
}

// Workflows

/** The message resource (reference §4.4 "Feature workflow": the item under `item`, plus `triggeredBy`). */
export function workflowResource(row: EamWorkflowTable): Record<string, unknown> {
  return {
    id: row.id,
    workflowId: row.id,
    workflowType: row.workflow_type,
    projectId: row.project_id,
    status: row.status,
    triggeredBy: row.triggered_by,
    createdAt: iso(Number(row.created_at)),
    item: readJson<Record<string, unknown>>(row.item),
  };
}

async function toWorkflow(runtime: EamRuntime, row: EamWorkflowTable): Promise<Workflow> {
  const link = await runtime.db
    .selectFrom('eam_links')
    .selectAll()
    .where('subscription_id', '=', row.subscription_id)
    .where('resource_id', '=', row.id)
    .executeTakeFirst();
  const external = link ? readJson<Record<string, unknown>>(link.fields) : {};
  const text = (value: unknown) =>
    value === undefined || value === null || value === '' ? null : String(value);
  const externalId = text(link?.external_id) ?? text(external.externalResourceId);
  const externalStatus = text(external.externalResourceStatus) ?? text(external.externalStatus);
  let status: Workflow['status'] = 'RUNNING';
  if (row.status === 'CANCELED') status = 'CANCELED';
  else if (externalStatus && runtime.settings.terminalExternalStatuses.includes(externalStatus))
    status =
      externalStatus === 'COMPLETED' ? 'COMPLETED' : externalStatus === 'CANCELED' ? 'CANCELED' : 'FAILED';
  return {
    id: row.id,
    workflowType: row.workflow_type as WorkflowType,
    projectId: row.project_id,
    itemId: row.item_id,
    item: readJson<Record<string, unknown>>(row.item),
    triggeredBy: row.triggered_by,
    subscriptionId: row.subscription_id,
    status,
    createdAt: iso(Number(row.created_at)),
    updatedAt: iso(Number(row.updated_at)),
    canceledAt: row.canceled_at === null ? null : iso(Number(row.canceled_at)),
    externalId,
    externalStatus,
    externalDecision: external.externalDecision ?? null,
    externalApprovers: external.externalApprovers ?? null,
    external,
  };
}

async function workflowRow(db: EamExecutor, id: string): Promise<EamWorkflowTable | undefined> {
  return db.selectFrom('eam_workflows').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getWorkflow(runtime: EamRuntime, id: string): Promise<Workflow> {
  const row = await workflowRow(runtime.db, id);
  if (!row) throw notFound(`No workflow ${id}`);
  return toWorkflow(runtime, row);
}

export async function listWorkflows(
  runtime: EamRuntime,
  filter: { projectId?: string | undefined; itemId?: string | undefined },
): Promise<Workflow[]> {
  let query = runtime.db.selectFrom('eam_workflows').selectAll();
  if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
  if (filter.itemId) query = query.where('item_id', '=', filter.itemId);
  const rows = await query.orderBy('created_at', 'desc').limit(500).execute();
  return Promise.all(rows.map((row) => toWorkflow(runtime, row)));
}

async function projectName(db: EamExecutor, projectId: string): Promise<string> {
  const row = await db
    .selectFrom('sandbox_projects')
    .select('name')
    .where('id', '=', projectId)
    .executeTakeFirst();
  return row?.name ?? '';
}

/**
 * The item of a workflow: a feature as the Features API returns it plus the workflow fields of
 * reference §4.4 (`id`, `universalId`, `statusName`, `targetStatusName`, `priorityName`,
 * `projectName`); a requirement as the Tasks API returns it; a document as given (the sandbox
 * has no documents).
 */
async function readItem(
  runtime: EamRuntime,
  workflowType: WorkflowType,
  body: Record<string, unknown>,
): Promise<{ itemId: string; projectId: string; item: Record<string, unknown> }> {
  if (workflowType === 'DOCUMENT_APPROVAL') {
    const item = body.item;
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw badRequest("DOCUMENT_APPROVAL workflows need 'item' (the document, an object) and 'projectId'");
    const projectId = requiredStr(body, 'projectId', 100);
    const document = item as Record<string, unknown>;
    const itemId =
      str(body, 'itemId', { max: 100 }) ?? (typeof document.id === 'string' ? document.id : randomUUID());
    return {
      itemId,
      projectId,
      item: { ...document, id: itemId, projectName: await projectName(runtime.db, projectId) },
    };
  }
  if (body.item !== undefined)
    throw badRequest(`'item' is read from the sandbox for ${workflowType} workflows`);
  const itemId = requiredStr(body, 'itemId', 100);
  if (workflowType === 'FEATURE_APPROVAL') {
    const row = await runtime.db
      .selectFrom('sandbox_features')
      .selectAll()
      .where('uuid', '=', itemId.toLowerCase())
      .executeTakeFirst();
    if (!row) throw notFound(`No feature ${itemId}`);
    const feature = toFeature(row);
    const target = str(body, 'targetStatusCode', { max: 50 });
    return {
      itemId: feature.uuid,
      projectId: feature.projectId,
      item: {
        ...feature,
        id: feature.uuid,
        universalId: feature.displayId,
        statusName: statusName(feature.statusCode),
        targetStatusName: target ? statusName(target) : '',
        priorityName: FEATURE_PRIORITIES.find((p) => p.code === feature.priorityCode)?.name ?? '',
        projectName: await projectName(runtime.db, feature.projectId),
      },
    };
  }
  const task = await runtime.db
    .selectFrom('sandbox_tasks')
    .selectAll()
    .where('id', '=', itemId)
    .executeTakeFirst();
  if (!task) throw notFound(`No requirement ${itemId}`);
  if (task.type !== 'CALMREQU')
    throw badRequest(`Task ${itemId} is a ${task.type}, not a requirement (CALMREQU)`);
  return {
    itemId: task.id,
    projectId: task.project_id,
    item: { ...toTask(task), projectName: await projectName(runtime.db, task.project_id) },
  };
}

/** Writes the change event and, in the same transaction, the delivery to the workflow's subscription. */
async function emitWorkflow(
  runtime: EamRuntime,
  eventType: EventType,
  work: (trx: Transaction<EamAllTables>) => Promise<EamWorkflowTable>,
): Promise<EamWorkflowTable> {
  return withEvents(runtime.ctx, 'sandbox-admin', async (sandboxTrx: Transaction<SandboxTables>, emit) => {
    const trx = sandboxTrx as unknown as Transaction<EamAllTables>;
    const row = await work(trx);
    const resource = workflowResource(row);
    await emit({ eventType, resourceId: row.id, projectId: row.project_id, resource });
    // The dispatcher finds no subscriber for WORKFLOW events: the workflow names its own.
    await queueDelivery(runtime, trx, row, eventType, resource);
    return row;
  });
}

async function queueDelivery(
  runtime: EamRuntime,
  trx: EamExecutor,
  row: EamWorkflowTable,
  eventType: EventType,
  resource: Record<string, unknown>,
): Promise<void> {
  const envelope: ChangeEnvelope = {
    subscriptionId: row.subscription_id,
    resourceType: 'WORKFLOW',
    eventType,
    resourceId: row.id,
    resource,
  };
  const delivery = newDelivery(runtime, envelope, { eventId: null, seq: null });
  await trx.insertInto('eam_deliveries').values(delivery).execute();
  await runtime.ctx.queue.enqueue(
    deliverySpec(runtime, { id: delivery.id, subscriptionId: row.subscription_id, resourceId: row.id }),
    trx,
  );
}

/** `WORKFLOW.STARTED` to the subscription of the project's workflow setting for the type. */
export async function startWorkflow(runtime: EamRuntime, raw: unknown): Promise<Workflow> {
  const body = asBody(raw);
  rejectUnknown(body, ['workflowType', 'itemId', 'item', 'projectId', 'triggeredBy', 'targetStatusCode']);
  const workflowType = readWorkflowType(requiredStr(body, 'workflowType', 50));
  const { itemId, projectId, item } = await readItem(runtime, workflowType, body);
  const setting = await runtime.db
    .selectFrom('eam_workflow_settings')
    .select('subscription_id')
    .where('project_id', '=', projectId)
    .where('workflow_type', '=', workflowType)
    .executeTakeFirst();
  if (!setting)
    throw new CalmError(409, `No subscription handles ${workflowType} workflows in project ${projectId}`);
  const now = runtime.ctx.now();
  const row = await emitWorkflow(runtime, 'WORKFLOW.STARTED', async (trx) => {
    const workflow: EamWorkflowTable = {
      id: randomUUID(),
      workflow_type: workflowType,
      project_id: projectId,
      item_id: itemId,
      item: writeJson(item),
      triggered_by: str(body, 'triggeredBy', { max: 255 }) ?? 'sandbox-admin',
      subscription_id: setting.subscription_id,
      status: 'RUNNING',
      created_at: now,
      updated_at: now,
      canceled_at: null,
    };
    await trx.insertInto('eam_workflows').values(workflow).execute();
    return workflow;
  });
  return toWorkflow(runtime, row);
}

/** `WORKFLOW.CANCELED`; the external instance is canceled by the subscription's mapping. */
export async function cancelWorkflow(runtime: EamRuntime, id: string): Promise<Workflow> {
  const existing = await getWorkflow(runtime, id);
  if (existing.status !== 'RUNNING') throw new CalmError(409, `Workflow ${id} is already ${existing.status}`);
  const now = runtime.ctx.now();
  const row = await emitWorkflow(runtime, 'WORKFLOW.CANCELED', async (trx) => {
    const current = await workflowRow(trx, id);
    if (!current) throw notFound(`No workflow ${id}`);
    const updated: EamWorkflowTable = { ...current, status: 'CANCELED', updated_at: now, canceled_at: now };
    await trx.updateTable('eam_workflows').set(updated).where('id', '=', id).execute();
    return updated;
  });
  return toWorkflow(runtime, row);
}

/**
 * `WORKFLOW.PING` for every running workflow with an external instance whose mapped status is not
 * terminal and whose mapping has a PING operation (reference §5.5). Returns the number queued.
 */
export async function pingWorkflows(runtime: EamRuntime, workflowId?: string): Promise<number> {
  let query = runtime.db
    .selectFrom('eam_workflows as w')
    .innerJoin('eam_links as l', (join) =>
      join.onRef('l.resource_id', '=', 'w.id').onRef('l.subscription_id', '=', 'w.subscription_id'),
    )
    .innerJoin('eam_subscriptions as s', 's.id', 'w.subscription_id')
    .selectAll('w')
    .select(['l.fields', 's.mapping_id'])
    .where('w.status', '=', 'RUNNING')
    .where('l.external_id', 'is not', null)
    .where('s.active', '=', 1);
  if (workflowId) query = query.where('w.id', '=', workflowId);
  const rows = await query.execute();
  const terminal = new Set(runtime.settings.terminalExternalStatuses);
  let queued = 0;
  for (const { fields, mapping_id, ...workflow } of rows) {
    const external = readJson<Record<string, unknown>>(fields);
    const status = external.externalResourceStatus ?? external.externalStatus;
    if (typeof status === 'string' && terminal.has(status)) continue;
    const mapping = mapping_id ? await compiledMapping(runtime.db, mapping_id) : null;
    if (!mapping?.operationFor('WORKFLOW.PING')) continue;
    const pending = await runtime.db
      .selectFrom('eam_deliveries')
      .select('id')
      .where('subscription_id', '=', workflow.subscription_id)
      .where('resource_id', '=', workflow.id)
      .where('event_type', '=', 'WORKFLOW.PING')
      .where('state', 'in', ['PENDING', 'RETRYING'])
      .executeTakeFirst();
    if (pending) continue;
    await runtime.db.transaction().execute(async (trx) => {
      await queueDelivery(runtime, trx, workflow, 'WORKFLOW.PING', workflowResource(workflow));
    });
    queued++;
  }
  return queued;
}
