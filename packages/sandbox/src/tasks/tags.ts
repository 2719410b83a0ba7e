import { type Body, checkStorable, has } from '../shared/body.js';
import { badRequest } from '../shared/errors.js';
import type { SandboxExecutor } from '../store/tables.js';

export const MAX_TAGS = 50;
export const MAX_TAG_LENGTH = 100;

/**
 * `tags` of a create or patch body: an array of strings (target state: the list replaces the
 * task's tags), trimmed, duplicates dropped, order kept. `null` clears them. `undefined` = not sent.
 */
export function parseTags(body: Body): string[] | undefined {
  if (!has(body, 'tags')) return undefined;
  const value = body.tags;
  if (value === null) return [];
  if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string'))
    throw badRequest("Property 'tags' must be an array of strings");
  const tags: string[] = [];
  for (const raw of value as string[]) {
    const tag = checkStorable(raw, "Property 'tags'").trim();
    if (tag === '') throw badRequest("Property 'tags' must not contain empty tags");
    if (tag.length > MAX_TAG_LENGTH)
      throw badRequest(`A tag exceeds the maximum length of ${MAX_TAG_LENGTH}: '${tag.slice(0, 20)}…'`);
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > MAX_TAGS) throw badRequest(`A task has at most ${MAX_TAGS} tags`);
  return tags;
}

/** Replaces a task's tags. */
export async function setTaskTags(
  db: SandboxExecutor,
  taskId: string,
  tags: readonly string[],
): Promise<void> {
  await db.deleteFrom('sandbox_task_tags').where('task_id', '=', taskId).execute();
  if (tags.length === 0) return;
  await db
    .insertInto('sandbox_task_tags')
    .values(tags.map((tag, position) => ({ task_id: taskId, tag, position })))
    .execute();
}

/** The tags of one task, in the order they were set. */
export async function tagsOfTask(db: SandboxExecutor, taskId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sandbox_task_tags')
    .select('tag')
    .where('task_id', '=', taskId)
    .orderBy('position')
    .execute();
  return rows.map((row) => row.tag);
}

/**
 * Tags of many tasks by task id. Few ids are looked up directly; for long lists the whole
 * project's tags are read at once, which stays one query however many rows a page holds.
 */
export async function tagsOfTasks(
  db: SandboxExecutor,
  tasks: readonly { id: string; project_id: string }[],
): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (tasks.length === 0) return result;
  const projects = [...new Set(tasks.map((task) => task.project_id))];
  const rows =
    tasks.length <= 500
      ? await db
          .selectFrom('sandbox_task_tags')
          .select(['task_id', 'tag'])
          .where(
            'task_id',
            'in',
            tasks.map((task) => task.id),
          )
          .orderBy('task_id')
          .orderBy('position')
          .execute()
      : await db
          .selectFrom('sandbox_task_tags as g')
          .innerJoin('sandbox_tasks as t', 't.id', 'g.task_id')
          .select(['g.task_id', 'g.tag'])
          .where('t.project_id', 'in', projects)
          .orderBy('g.task_id')
          .orderBy('g.position')
          .execute();
  for (const row of rows) {
    const list = result.get(row.task_id);
    if (list) list.push(row.tag);
    else result.set(row.task_id, [row.tag]);
  }
  return result;
}
