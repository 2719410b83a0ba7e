import { randomUUID } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import type { Principal } from '../auth/tokens.js';
import { withEvents } from '../events/events.js';
import { asBody, has, rejectUnknown, requiredStr } from '../shared/body.js';
import { badRequest, notFound } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import { isoTask } from '../shared/time.js';
import type { CommentTable, ReferenceTable } from '../store/tables.js';
import { touchTask, visibleTask } from './service.js';

export interface Comment {
  id: string;
  taskId: string;
  text: string;
  createdTimestamp: string;
  createdBy: string;
  changedTimestamp: string;
}

export interface Reference {
  id: string;
  taskId: string;
  name: string;
  url: string;
}

export const toComment = (row: CommentTable): Comment => ({
  id: row.id,
  taskId: row.task_id,
  text: row.text,
  createdTimestamp: isoTask(Number(row.created_at)),
  createdBy: row.created_by,
  changedTimestamp: isoTask(Number(row.changed_at)),
});

export const toReference = (row: ReferenceTable): Reference => ({
  id: row.id,
  taskId: row.task_id,
  name: row.name,
  url: row.url,
});

function commentText(raw: unknown): string {
  const body = asBody(raw);
  rejectUnknown(body, ['text']);
  return requiredStr(body, 'text', 100_000);
}

/** The spec's pattern requires https:// on reference URLs. */
function referenceFields(raw: unknown, partial: boolean): { name?: string; url?: string } {
  const body = asBody(raw);
  rejectUnknown(body, ['name', 'url']);
  const result: { name?: string; url?: string } = {};
  if (!partial || has(body, 'name')) result.name = requiredStr(body, 'name', 255);
  if (!partial || has(body, 'url')) {
    const url = requiredStr(body, 'url', 2000);
    if (!/^https:\/\/\S+$/.test(url)) throw badRequest(`Invalid url '${url}': it must start with https://`);
    result.url = url;
  }
  return result;
}

export async function listComments(
  ctx: SandboxContext,
  principal: Principal,
  taskId: string,
): Promise<Comment[]> {
  const task = await visibleTask(ctx.db, principal, taskId);
  const rows = await ctx.db
    .selectFrom('sandbox_comments')
    .selectAll()
    .where('task_id', '=', task.id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toComment);
}

export async function addComment(
  ctx: SandboxContext,
  principal: Principal | null,
  actor: string,
  taskId: string,
  raw: unknown,
): Promise<Comment> {
  const text = commentText(raw);
  return withEvents(ctx, actor, async (trx, emit) => {
    const task = await visibleTask(trx, principal, taskId);
    const now = ctx.now();
    const row: CommentTable = {
      id: randomUUID(),
      task_id: task.id,
      text,
      created_by: actor,
      created_at: now,
      changed_at: now,
    };
    await trx.insertInto('sandbox_comments').values(row).execute();
    await touchTask(ctx, trx, emit, task);
    return toComment(row);
  });
}

async function visibleComment(ctx: SandboxContext, principal: Principal, commentId: string) {
  const row = isGuid(commentId)
    ? await ctx.db
        .selectFrom('sandbox_comments')
        .selectAll()
        .where('id', '=', commentId.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!row) throw notFound(`Comment with id ${commentId} not found`);
  await visibleTask(ctx.db, principal, row.task_id);
  return row;
}

export async function updateComment(
  ctx: SandboxContext,
  principal: Principal,
  commentId: string,
  raw: unknown,
): Promise<Comment> {
  const text = commentText(raw);
  const comment = await visibleComment(ctx, principal, commentId);
  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const changed = { ...comment, text, changed_at: Math.max(ctx.now(), comment.changed_at + 1) };
    await trx
      .updateTable('sandbox_comments')
      .set({ text, changed_at: changed.changed_at })
      .where('id', '=', comment.id)
      .execute();
    await touchTask(ctx, trx, emit, await visibleTask(trx, principal, comment.task_id));
    return toComment(changed);
  });
}

export async function deleteComment(
  ctx: SandboxContext,
  principal: Principal,
  commentId: string,
): Promise<void> {
  const comment = await visibleComment(ctx, principal, commentId);
  await withEvents(ctx, principal.clientId, async (trx, emit) => {
    await trx.deleteFrom('sandbox_comments').where('id', '=', comment.id).execute();
    await touchTask(ctx, trx, emit, await visibleTask(trx, principal, comment.task_id));
  });
}

export async function listReferences(
  ctx: SandboxContext,
  principal: Principal,
  taskId: string,
): Promise<Reference[]> {
  const task = await visibleTask(ctx.db, principal, taskId);
  const rows = await ctx.db
    .selectFrom('sandbox_references')
    .selectAll()
    .where('task_id', '=', task.id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toReference);
}

export async function addReference(
  ctx: SandboxContext,
  principal: Principal,
  taskId: string,
  raw: unknown,
): Promise<Reference> {
  const fields = referenceFields(raw, false) as { name: string; url: string };
  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const task = await visibleTask(trx, principal, taskId);
    const row: ReferenceTable = {
      id: randomUUID(),
      task_id: task.id,
      name: fields.name,
      url: fields.url,
      created_at: ctx.now(),
    };
    await trx.insertInto('sandbox_references').values(row).execute();
    await touchTask(ctx, trx, emit, task);
    return toReference(row);
  });
}

async function visibleReference(ctx: SandboxContext, principal: Principal, referenceId: string) {
  const row = isGuid(referenceId)
    ? await ctx.db
        .selectFrom('sandbox_references')
        .selectAll()
        .where('id', '=', referenceId.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!row) throw notFound(`Reference with id ${referenceId} not found`);
  await visibleTask(ctx.db, principal, row.task_id);
  return row;
}

export async function updateReference(
  ctx: SandboxContext,
  principal: Principal,
  referenceId: string,
  raw: unknown,
): Promise<Reference> {
  const fields = referenceFields(raw, true);
  const reference = await visibleReference(ctx, principal, referenceId);
  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    if (Object.keys(fields).length > 0)
      await trx.updateTable('sandbox_references').set(fields).where('id', '=', reference.id).execute();
    await touchTask(ctx, trx, emit, await visibleTask(trx, principal, reference.task_id));
    return toReference({ ...reference, ...fields });
  });
}

export async function deleteReference(
  ctx: SandboxContext,
  principal: Principal,
  referenceId: string,
): Promise<void> {
  const reference = await visibleReference(ctx, principal, referenceId);
  await withEvents(ctx, principal.clientId, async (trx, emit) => {
    await trx.deleteFrom('sandbox_references').where('id', '=', reference.id).execute();
    await touchTask(ctx, trx, emit, await visibleTask(trx, principal, reference.task_id));
  });
}

/** `GET /tasks/{id}/featureAssignments`: the read side of the feature <-> task link. */
export async function featureAssignments(ctx: SandboxContext, principal: Principal, taskId: string) {
  const task = await visibleTask(ctx.db, principal, taskId);
  const rows = await ctx.db
    .selectFrom('sandbox_task_assignments as a')
    .innerJoin('sandbox_features as f', 'f.uuid', 'a.parent_uuid')
    .select(['a.task_id', 'f.uuid', 'f.display_id', 'f.title', 'f.status_code', 'f.project_id'])
    .where('a.task_id', '=', task.id)
    .orderBy('a.created_at')
    .execute();
  return rows.map((row) => ({
    taskId: row.task_id,
    featureId: row.uuid,
    featureDisplayId: row.display_id,
    featureTitle: row.title,
    featureStatusCode: row.status_code,
    projectId: row.project_id,
  }));
}
