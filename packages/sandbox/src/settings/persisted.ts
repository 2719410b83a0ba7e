import type { HttpApp } from '@calmhub/platform';
import type { SandboxContext, SandboxSettings } from '../app/context.js';
import { cpiSettings } from '../cpi/service.js';
import { ctmsSettings } from '../ctms/model.js';
import type { FaultInjector, StoredFaultRule } from '../faults/fault-injector.js';
import { sapBuildRuntime } from '../sap-build/runtime.js';
import { snRuntime } from '../servicenow/runtime.js';

/**
 * One piece of runtime state changed over the admin API and kept in `sandbox_settings` under
 * `key`: `read` takes a JSON-able snapshot of the live value, `apply` puts a stored one back at
 * start. External API Management keeps its settings in its own `eam_state` table.
 */
export interface SettingsSection {
  key: string;
  read(ctx: SandboxContext): unknown;
  apply(ctx: SandboxContext, value: unknown): void;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Copies the stored fields that `target` has, of the same JSON type; unknown or mistyped ones are ignored. */
function assignKnown(target: object, stored: unknown): void {
  if (!isObject(stored)) return;
  const fields = target as Json;
  for (const [key, value] of Object.entries(stored)) {
    if (!(key in fields) || value === undefined) continue;
    const current = fields[key];
    if (current !== undefined && current !== null && Array.isArray(current) !== Array.isArray(value))
      continue;
    if (current !== undefined && current !== null && typeof current !== typeof value) continue;
    fields[key] = structuredClone(value);
  }
}

function faultSection(key: string, injector: (ctx: SandboxContext) => FaultInjector): SettingsSection {
  return {
    key,
    read: (ctx) => injector(ctx).definitions(),
    apply: (ctx, value) => {
      if (Array.isArray(value)) injector(ctx).restore(value as StoredFaultRule[]);
    },
  };
}

const CORE_SETTINGS: (keyof SandboxSettings)[] = [
  'pageSize',
  'tokenLifetimeSeconds',
  'featurePatchStatus',
  'emitTaskDeleted',
  'featureCreateStatuses',
];

/** Everything that survives a restart besides the data itself, in load order. */
export const SETTINGS_SECTIONS: SettingsSection[] = [
  {
    key: 'core.settings',
    read: (ctx) =>
      Object.fromEntries(
        CORE_SETTINGS.filter((name) => ctx.settings[name] !== undefined).map((name) => [
          name,
          ctx.settings[name],
        ]),
      ),
    apply: (ctx, value) => {
      if (!isObject(value)) return;
      const known = Object.fromEntries(
        Object.entries(value).filter(([name]) => (CORE_SETTINGS as string[]).includes(name)),
      );
      // featureCreateStatuses is optional, so it may be absent from the live object.
      if (Array.isArray(known.featureCreateStatuses))
        ctx.settings.featureCreateStatuses = [...(known.featureCreateStatuses as string[])];
      delete known.featureCreateStatuses;
      assignKnown(ctx.settings, known);
    },
  },
  {
    key: 'core.feature-transitions',
    read: (ctx) => ctx.settings.featureTransitions,
    apply: (ctx, value) => {
      if (
        isObject(value) &&
        Object.values(value).every(
          (targets) => Array.isArray(targets) && targets.every((t) => typeof t === 'string'),
        )
      )
        ctx.settings.featureTransitions = structuredClone(value) as Record<string, string[]>;
    },
  },
  faultSection('core.faults', (ctx) => ctx.faults),
  {
    key: 'servicenow.settings',
    read: (ctx) => snRuntime(ctx).settings,
    apply: (ctx, value) => assignKnown(snRuntime(ctx).settings, value),
  },
  faultSection('servicenow.faults', (ctx) => snRuntime(ctx).faults),
  {
    key: 'ctms.settings',
    read: (ctx) => ctmsSettings(ctx),
    apply: (ctx, value) => assignKnown(ctmsSettings(ctx), value),
  },
  {
    key: 'cpi.settings',
    read: (ctx) => cpiSettings(ctx),
    apply: (ctx, value) => assignKnown(cpiSettings(ctx), value),
  },
  {
    key: 'sap-build.settings',
    read: (ctx) => ({ tokenLifetimeSeconds: sapBuildRuntime(ctx).tokenLifetimeSeconds }),
    apply: (ctx, value) => {
      if (isObject(value) && typeof value.tokenLifetimeSeconds === 'number')
        sapBuildRuntime(ctx).tokenLifetimeSeconds = value.tokenLifetimeSeconds;
    },
  },
];

/**
 * The runtime settings of one sandbox, kept in its store: loaded at start, written when a
 * section's value differs from what was last loaded or written. Writes are serialised.
 */
export class PersistedSettings {
  private saved = new Map<string, string>();
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: SandboxContext,
    private readonly sections: SettingsSection[] = SETTINGS_SECTIONS,
  ) {}

  /** Puts the stored values back into the live objects; a section that fails to apply is logged and skipped. */
  async load(): Promise<void> {
    const rows = await this.ctx.db.selectFrom('sandbox_settings').select(['key', 'value']).execute();
    const stored = new Map(rows.map((row) => [row.key, row.value]));
    for (const section of this.sections) {
      const text = stored.get(section.key);
      if (text === undefined) continue;
      try {
        section.apply(this.ctx, JSON.parse(text));
      } catch (error) {
        this.ctx.logger.warn(
          { err: error, section: section.key },
          'stored sandbox settings could not be applied; using the defaults',
        );
      }
    }
  }

  /** Takes the current values as the saved state (after start options were applied on top). */
  markSaved(): void {
    for (const section of this.sections) this.saved.set(section.key, JSON.stringify(section.read(this.ctx)));
  }

  /** Writes every section whose value changed since the last load or write. */
  flush(): Promise<void> {
    const run = this.pending.then(() => this.write());
    this.pending = run.catch(() => undefined);
    return run;
  }

  private async write(): Promise<void> {
    const changed: { key: string; value: string }[] = [];
    for (const section of this.sections) {
      const value = JSON.stringify(section.read(this.ctx));
      if (this.saved.get(section.key) !== value) changed.push({ key: section.key, value });
    }
    if (changed.length === 0) return;
    const now = this.ctx.now();
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const { key, value } of changed) {
        await trx
          .insertInto('sandbox_settings')
          .values({ key, value, updated_at: now })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
          .execute();
      }
    });
    for (const { key, value } of changed) this.saved.set(key, value);
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Persists runtime settings after every successful admin call that may have changed them, before
 * its answer goes out: once a client has the answer, a restart keeps the change. Registered on the
 * root app before any route, so it covers the module admin scopes too.
 */
export function persistSettingsOnChange(app: HttpApp, settings: PersistedSettings): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (READS.has(request.method) || reply.statusCode >= 400) return payload;
    if (request.url !== '/admin' && !request.url.startsWith('/admin/')) return payload;
    await settings.flush();
    return payload;
  });
}
