import type { SandboxContext } from '../app/context.js';
import type { SandboxModule } from '../app/module.js';
import { eamMigrations } from './migrations.js';
import { eamAdminAccess } from './permissions.js';
import {
  DELIVER_JOB,
  DISPATCH_JOB,
  DISPATCH_TICK_JOB,
  deliver,
  dispatchJob,
  dispatchTickJob,
  initCursor,
  PING_TICK_JOB,
  PRUNE_JOB,
  pruneJob,
  wakeDispatcher,
} from './push/engine.js';
import { registerEamAdminRoutes } from './routes.js';
import { createRuntime, dropRuntime, type EamRuntime, runtimeOf } from './runtime.js';
import { pingTickJob } from './situations.js';

function schedulesOf(runtime: EamRuntime) {
  const payload = { tenant: runtime.tenant };
  return [
    {
      name: 'eam.dispatch-tick',
      everyMs: runtime.settings.dispatchIntervalMs,
      job: { name: DISPATCH_TICK_JOB, payload },
    },
    {
      name: 'eam.ping-tick',
      everyMs: Math.max(1000, runtime.settings.pingIntervalSeconds * 1000),
      job: { name: PING_TICK_JOB, payload },
    },
    { name: 'eam.console-prune', everyMs: 3_600_000, job: { name: PRUNE_JOB, payload } },
  ];
}

function requireRuntime(ctx: SandboxContext): EamRuntime {
  const runtime = runtimeOf(ctx);
  if (!runtime) throw new Error('the eam module was not registered on this sandbox');
  return runtime;
}

/**
 * SAP Cloud ALM External API Management (destinations, webhooks, mappings, subscriptions, the
 * push engine and its console) and the event situations of Intelligent Event Processing that
 * feed it (`shared/reference/external-api-management.md` §1-§4, §6, §7, §9, §10).
 */
export const eamModule: SandboxModule = {
  name: 'eam',
  migrations: eamMigrations,
  async register(app, ctx) {
    const runtime = await createRuntime(ctx);
    await initCursor(runtime);
    // The post-commit hook of the change stream wakes the dispatcher at once; the schedule is the safety net.
    const previous = ctx.onEvent;
    ctx.onEvent = (event) => {
      previous?.(event);
      wakeDispatcher(runtime).catch((error: unknown) =>
        ctx.logger.warn({ err: error }, 'eam: dispatcher wake-up failed'),
      );
    };
    app.addHook('onClose', async () => {
      dropRuntime(runtime);
      await runtime.agents.close();
    });
    await wakeDispatcher(runtime);
  },
  adminAccess: eamAdminAccess,
  async registerAdmin(scope, ctx) {
    const runtime = requireRuntime(ctx);
    await registerEamAdminRoutes(scope, runtime, async () => {
      for (const schedule of schedulesOf(runtime)) await ctx.queue.defineSchedule(schedule);
    });
    await (await import('./workflow-routes.js')).registerWorkflowRoutes(scope, runtime);
  },
  // The handlers find their per-sandbox runtime (settings, token and agent caches) by tenant.
  jobs: () => ({
    [DISPATCH_JOB]: dispatchJob,
    [DISPATCH_TICK_JOB]: dispatchTickJob,
    [DELIVER_JOB]: deliver,
    [PING_TICK_JOB]: pingTickJob,
    [PRUNE_JOB]: pruneJob,
  }),
  schedules(ctx) {
    return schedulesOf(requireRuntime(ctx));
  },
};
