import type { SandboxContext } from '../app/context.js';
import type { JiraDb, JiraTables } from './tables.js';

export interface JiraRuntime {
  ctx: SandboxContext;
  db: JiraDb;
}

const runtimes = new WeakMap<SandboxContext, JiraRuntime>();

export function jiraRuntime(ctx: SandboxContext): JiraRuntime {
  let runtime = runtimes.get(ctx);
  if (!runtime) {
    runtime = { ctx, db: ctx.store.db.withTables<JiraTables>() };
    runtimes.set(ctx, runtime);
  }
  return runtime;
}

export function siteUrl(ctx: SandboxContext): string {
  return `${ctx.publicUrl()}/jira`;
}
