import type { SandboxContext } from '../app/context.js';
import { FaultInjector } from '../faults/fault-injector.js';
import type { SnDb, SnTables } from './tables.js';

export interface SnSettings {
  /** `expires_in` of tokens from `oauth_token.do` (ServiceNow's default is 1799 s). */
  accessTokenLifetimeSeconds: number;
  /** `sysparm_limit` when the caller gives none (Table API default 10000). */
  defaultLimit: number;
}

export interface SnRuntime {
  ctx: SandboxContext;
  db: SnDb;
  faults: FaultInjector;
  settings: SnSettings;
  stats: { tokensIssued: number; requests: number };
}

const runtimes = new WeakMap<SandboxContext, SnRuntime>();

export function snRuntime(ctx: SandboxContext): SnRuntime {
  let runtime = runtimes.get(ctx);
  if (!runtime) {
    runtime = {
      ctx,
      db: ctx.store.db.withTables<SnTables>(),
      // Its own rules: the Cloud ALM fault hook only covers /api/calm-* and /oauth/*.
      faults: new FaultInjector(),
      settings: { accessTokenLifetimeSeconds: 1799, defaultLimit: 10_000 },
      stats: { tokensIssued: 0, requests: 0 },
    };
    runtimes.set(ctx, runtime);
  }
  return runtime;
}

export function instanceUrl(ctx: SandboxContext): string {
  return `${ctx.publicUrl()}/servicenow`;
}
