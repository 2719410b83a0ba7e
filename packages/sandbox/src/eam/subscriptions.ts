import { randomUUID } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import { asBody, bool, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import { compiledMapping, mappingExists } from './mappings.js';
import type { EamRuntime } from './runtime.js';
import type { EamExecutor, EamSubscriptionTable } from './tables.js';

/** Resource types a subscription can manage (reference §4.3; FEATURE is emulator-only). */
export const SUBSCRIPTION_RESOURCE_TYPES = ['FEATURE', 'TASK', 'EVENT-SITUATION', 'WORKFLOW'] as const;
export type SubscriptionResourceType = (typeof SUBSCRIPTION_RESOURCE_TYPES)[number];
export const SUBSCRIPTION_TYPES = ['BUILT_IN', 'EXTERNAL'] as const;

/** Item types of the project "Subscriptions" panel (reference §4.1). */
export const PROJECT_ITEM_TYPES = ['FEATURE', 'USER_STORY', 'TASK', 'REQUIREMENT', 'DEFECT'] as const;
export type ProjectItemType = (typeof PROJECT_ITEM_TYPES)[number];

/** Task `type` codes per item type; sub-tasks follow their "task" assignment (INFERRED). */
const TASK_TYPE_ITEMS: Record<string, ProjectItemType> = {
  CALMUS: 'USER_STORY',
  CALMTASK: 'TASK',
  CALMST: 'TASK',
  CALMREQU: 'REQUIREMENT',
  CALMDEF: 'DEFECT',
};

export function itemTypeOf(
  resourceType: string,
  resource: Record<string, unknown>,
): ProjectItemType | undefined {
  if (resourceType === 'FEATURE') return 'FEATURE';
  if (resourceType === 'TASK') return TASK_TYPE_ITEMS[String(resource.type)];
  return undefined;
}

export interface Subscription {
  id: string;
  name: string;
  description: string | null;
  type: (typeof SUBSCRIPTION_TYPES)[number];
  resourceType: SubscriptionResourceType;
  webhookId: string;
  mappingId: string | null;
  userVariables: { name: string; value: string }[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export function toSubscription(row: EamSubscriptionTable): Subscription {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type as Subscription['type'],
    resourceType: row.resource_type as SubscriptionResourceType,
    webhookId: row.webhook_id,
    mappingId: row.mapping_id,
    userVariables: readJson<Subscription['userVariables']>(row.user_variables),
    active: row.active === 1,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

function readType(value: unknown): Subscription['type'] {
  // The UI label is "Built-in" (seed document); the reference's TypeScript shape says BUILT_IN.
  const normalised = typeof value === 'string' ? value.toUpperCase().replace('-', '_') : value;
  if (normalised === 'BUILT_IN' || normalised === 'EXTERNAL') return normalised;
  throw badRequest('Property \'type\' must be BUILT_IN ("Built-in") or EXTERNAL ("External")');
}

function readUserVariables(value: unknown): Subscription['userVariables'] {
  if (!Array.isArray(value)) throw badRequest("Property 'userVariables' must be an array of {name, value}");
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const item = asBody(entry, `userVariables[${index}]`);
    rejectUnknown(item, ['name', 'value'], `userVariables[${index}]`);
    const name = requiredStr(item, 'name', 200);
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name))
      throw badRequest(`userVariables[${index}].name must be an identifier (letters, digits, _ . -)`);
    if (seen.has(name)) throw badRequest(`userVariables: duplicate name ${name}`);
    seen.add(name);
    const variable = str(item, 'value', { max: 10_000 }) ?? '';
    return { name, value: variable };
  });
}

const FIELDS = [
  'name',
  'description',
  'type',
  'resourceType',
  'webhookId',
  'mappingId',
  'userVariables',
  'active',
];

async function checkReferences(
  runtime: EamRuntime,
  webhookId: string,
  mappingId: string | null,
): Promise<void> {
  const webhook = await runtime.db
    .selectFrom('eam_webhooks')
    .select('id')
    .where('id', '=', webhookId)
    .executeTakeFirst();
  if (!webhook) throw badRequest(`No webhook ${webhookId}`);
  if (mappingId !== null && !(await mappingExists(runtime.db, mappingId)))
    throw badRequest(`No mapping ${mappingId}`);
}

/** A mapping that handles no event of the subscription's resource type is most likely a mistake. */
async function warningsFor(
  runtime: EamRuntime,
  resourceType: string,
  mappingId: string | null,
): Promise<string[]> {
  if (!mappingId) return [];
  const mapping = await compiledMapping(runtime.db, mappingId);
  if (!mapping) return [];
  return mapping.eventTypes.some((eventType) => eventType.startsWith(`${resourceType}.`))
    ? []
    : [`Mapping ${mappingId} maps no ${resourceType}.* event type; nothing would be sent`];
}

async function requireUniqueName(db: EamExecutor, name: string, id?: string): Promise<void> {
  const row = await db
    .selectFrom('eam_subscriptions')
    .select('id')
    .where('name', '=', name)
    .executeTakeFirst();
  if (row && row.id !== id) throw new CalmError(409, `A subscription named ${name} already exists`);
}

export async function listSubscriptions(db: EamExecutor): Promise<Subscription[]> {
  return (await db.selectFrom('eam_subscriptions').selectAll().orderBy('name').execute()).map(toSubscription);
}

export async function subscriptionRow(
  db: EamExecutor,
  id: string,
): Promise<EamSubscriptionTable | undefined> {
  return db.selectFrom('eam_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getSubscription(db: EamExecutor, id: string): Promise<Subscription> {
  const row = await subscriptionRow(db, id);
  if (!row) throw notFound(`No subscription ${id}`);
  return toSubscription(row);
}

export async function createSubscription(
  runtime: EamRuntime,
  raw: unknown,
): Promise<{ subscription: Subscription; warnings: string[] }> {
  const body = asBody(raw);
  rejectUnknown(body, FIELDS);
  const name = requiredStr(body, 'name', 200);
  const resourceType = requiredStr(body, 'resourceType', 50);
  if (!(SUBSCRIPTION_RESOURCE_TYPES as readonly string[]).includes(resourceType))
    throw badRequest(`Property 'resourceType' must be one of ${SUBSCRIPTION_RESOURCE_TYPES.join(', ')}`);
  const webhookId = requiredStr(body, 'webhookId', 100);
  const mappingId = str(body, 'mappingId', { max: 200 }) ?? null;
  await checkReferences(runtime, webhookId, mappingId);
  await requireUniqueName(runtime.db, name);
  const now = runtime.ctx.now();
  const row: EamSubscriptionTable = {
    id: randomUUID(),
    name,
    description: str(body, 'description', { max: 2000 }) ?? null,
    type: body.type === undefined ? 'EXTERNAL' : readType(body.type),
    resource_type: resourceType,
    webhook_id: webhookId,
    mapping_id: mappingId,
    user_variables: writeJson(body.userVariables === undefined ? [] : readUserVariables(body.userVariables)),
    active: bool(body, 'active') === false ? 0 : 1,
    created_at: now,
    updated_at: now,
  };
  await runtime.db.insertInto('eam_subscriptions').values(row).execute();
  return { subscription: toSubscription(row), warnings: await warningsFor(runtime, resourceType, mappingId) };
}

export async function updateSubscription(
  runtime: EamRuntime,
  id: string,
  raw: unknown,
): Promise<{ subscription: Subscription; warnings: string[] }> {
  const existing = await subscriptionRow(runtime.db, id);
  if (!existing) throw notFound(`No subscription ${id}`);
  const body = asBody(raw);
  rejectUnknown(body, FIELDS);
  if (body.resourceType !== undefined && body.resourceType !== existing.resource_type)
    throw badRequest("Property 'resourceType' cannot change; create another subscription");
  const name = str(body, 'name', { max: 200 }) ?? existing.name;
  if (name !== existing.name) await requireUniqueName(runtime.db, name, id);
  const webhookId = str(body, 'webhookId', { max: 100 }) ?? existing.webhook_id;
  const mappingId =
    body.mappingId === undefined ? existing.mapping_id : (str(body, 'mappingId', { max: 200 }) ?? null);
  await checkReferences(runtime, webhookId, mappingId);
  const active = bool(body, 'active');
  const row: EamSubscriptionTable = {
    ...existing,
    name,
    description:
      body.description === undefined
        ? existing.description
        : (str(body, 'description', { max: 2000 }) ?? null),
    type: body.type === undefined ? existing.type : readType(body.type),
    webhook_id: webhookId,
    mapping_id: mappingId,
    user_variables:
      body.userVariables === undefined
        ? existing.user_variables
        : writeJson(readUserVariables(body.userVariables)),
    active: active === undefined ? existing.active : active ? 1 : 0,
    updated_at: runtime.ctx.now(),
  };
  await runtime.db.updateTable('eam_subscriptions').set(row).where('id', '=', id).execute();
  return {
    subscription: toSubscription(row),
    warnings: await warningsFor(runtime, existing.resource_type, mappingId),
  };
}

export async function deleteSubscription(runtime: EamRuntime, id: string): Promise<void> {
  const result = await runtime.db.deleteFrom('eam_subscriptions').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`No subscription ${id}`);
  await runtime.db.deleteFrom('eam_project_subscriptions').where('subscription_id', '=', id).execute();
  await runtime.db.deleteFrom('eam_event_actions').where('subscription_id', '=', id).execute();
}

// Project settings > Subscriptions: the per-project opt-in.

export interface ProjectAssignment {
  itemType: ProjectItemType;
  subscriptionId: string;
  subscriptionName: string;
  assignedAt: string;
}

async function requireProject(runtime: EamRuntime, projectId: string): Promise<void> {
  if (!isGuid(projectId)) throw badRequest(`'${projectId}' is not a project id (a GUID)`);
  const project = await runtime.db
    .selectFrom('sandbox_projects')
    .select('id')
    .where('id', '=', projectId.toLowerCase())
    .executeTakeFirst();
  if (!project) throw notFound(`No project ${projectId}`);
}

export async function projectAssignments(
  runtime: EamRuntime,
  projectId: string,
): Promise<ProjectAssignment[]> {
  await requireProject(runtime, projectId);
  const rows = await runtime.db
    .selectFrom('eam_project_subscriptions as p')
    .innerJoin('eam_subscriptions as s', 's.id', 'p.subscription_id')
    .select(['p.item_type', 'p.subscription_id', 's.name', 'p.created_at'])
    .where('p.project_id', '=', projectId.toLowerCase())
    .orderBy('p.item_type')
    .orderBy('s.name')
    .execute();
  return rows.map((row) => ({
    itemType: row.item_type as ProjectItemType,
    subscriptionId: row.subscription_id,
    subscriptionName: row.name,
    assignedAt: new Date(Number(row.created_at)).toISOString(),
  }));
}

export async function assignToProject(
  runtime: EamRuntime,
  projectId: string,
  raw: unknown,
): Promise<ProjectAssignment[]> {
  await requireProject(runtime, projectId);
  const body = asBody(raw);
  rejectUnknown(body, ['itemType', 'subscriptionId']);
  const itemType = requiredStr(body, 'itemType', 50);
  if (!(PROJECT_ITEM_TYPES as readonly string[]).includes(itemType))
    throw badRequest(`Property 'itemType' must be one of ${PROJECT_ITEM_TYPES.join(', ')}`);
  const subscriptionId = requiredStr(body, 'subscriptionId', 100);
  const subscription = await subscriptionRow(runtime.db, subscriptionId);
  if (!subscription) throw badRequest(`No subscription ${subscriptionId}`);
  const expected = itemType === 'FEATURE' ? 'FEATURE' : 'TASK';
  if (subscription.resource_type !== expected)
    throw badRequest(
      `Subscription ${subscription.name} manages ${subscription.resource_type}; item type ${itemType} needs a ${expected} subscription`,
    );
  await runtime.db
    .insertInto('eam_project_subscriptions')
    .values({
      project_id: projectId.toLowerCase(),
      item_type: itemType,
      subscription_id: subscriptionId,
      created_at: runtime.ctx.now(),
    })
    .onConflict((oc) => oc.columns(['project_id', 'item_type', 'subscription_id']).doNothing())
    .execute();
  return projectAssignments(runtime, projectId);
}

export async function unassignFromProject(
  runtime: EamRuntime,
  projectId: string,
  itemType: string,
  subscriptionId: string,
): Promise<void> {
  await requireProject(runtime, projectId);
  const result = await runtime.db
    .deleteFrom('eam_project_subscriptions')
    .where('project_id', '=', projectId.toLowerCase())
    .where('item_type', '=', itemType)
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0)
    throw notFound(`Subscription ${subscriptionId} is not assigned to ${itemType} in project ${projectId}`);
}
