import type { SandboxContext } from '../app/context.js';
import type { SapBuildDb, SapBuildTables } from './tables.js';

export interface SapBuildRuntime {
  ctx: SandboxContext;
  db: SapBuildDb;
  /** `expires_in` of issued tokens; XSUAA's default is 43199 s. */
  tokenLifetimeSeconds: number;
  stats: { tokensIssued: number };
}

const runtimes = new WeakMap<SandboxContext, SapBuildRuntime>();

export function sapBuildRuntime(ctx: SandboxContext): SapBuildRuntime {
  let runtime = runtimes.get(ctx);
  if (!runtime) {
    runtime = {
      ctx,
      db: ctx.store.db.withTables<SapBuildTables>(),
      tokenLifetimeSeconds: 43199,
      stats: { tokensIssued: 0 },
    };
    runtimes.set(ctx, runtime);
  }
  return runtime;
}

export function apiUrl(ctx: SandboxContext): string {
  return `${ctx.publicUrl()}/sap-build`;
}
