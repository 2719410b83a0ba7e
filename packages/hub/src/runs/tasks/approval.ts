import type { ApprovalTask } from '../../pipelines/definition.js';
import type { TaskContext, TaskOutcome } from './task-context.js';

/** Passes with N approvals of the task's current attempt; one rejection fails it; else it waits. */
export async function runApprovalTask(context: TaskContext<ApprovalTask>): Promise<TaskOutcome> {
  const { run, row, task } = context;
  const decisions = await context.deps.db
    .selectFrom('hub_run_approvals')
    .select(['email', 'role', 'decision', 'comment', 'decided_at', 'evidence'])
    .where('run_id', '=', run.id)
    .where('task_key', '=', row.task_key)
    .where('attempt', '=', row.attempt)
    .orderBy('decided_at')
    .execute();
  const rejected = decisions.find((d) => d.decision === 'rejected');
  const approved = decisions.filter((d) => d.decision === 'approved');
  const result = { approvals: decisions.map(({ evidence: _, ...d }) => d), required: task.required ?? 1 };
  if (rejected)
    return {
      state: 'failed',
      message: `${task.name} rejected by ${rejected.email}${rejected.comment ? `: ${rejected.comment}` : ''}`,
      result,
    };
  const required = task.required ?? 1;
  if (approved.length >= required)
    return {
      state: 'passed',
      message: `${task.name} approved by ${approved.map((a) => a.email).join(', ')}`,
      result,
    };
  const who = [...(task.users ?? []), ...(task.roles ?? []).map((r) => `role ${r}`)];
  return {
    state: 'waiting',
    message: `${task.name} waits for ${required - approved.length} more approval${required - approved.length === 1 ? '' : 's'}${who.length ? ` (${who.join(', ')})` : ''}`,
    result,
  };
}
