import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { notFound, requireProjectAction } from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import type { HubDeps } from '../app/deps.js';
import type { IntegrationsTable } from '../store/tables.js';
import { WRITE_BACK_ACTIONS, WRITE_BACK_TARGETS } from './actions.js';
import type { WriteBackSettingsBody, WriteBackSettingsView } from './schemas.js';
import { switchesOf } from './store.js';

type Deps = Pick<HubDeps, 'db' | 'clock'>;

async function loadIntegration(
  deps: Deps,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<IntegrationsTable> {
  const row = await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('integration', id);
  try {
    await requireProjectAction(deps.db, actor, row.project_id, action);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') throw notFound('integration', id);
    throw error;
  }
  return row;
}

async function view(deps: Deps, integrationId: string): Promise<WriteBackSettingsView> {
  const on = await switchesOf(deps.db, integrationId);
  const pick = (keys: readonly string[]) => Object.fromEntries(keys.map((key) => [key, on[key] ?? true]));
  return {
    integrationId,
    targets: pick(WRITE_BACK_TARGETS) as WriteBackSettingsView['targets'],
    actions: pick(WRITE_BACK_ACTIONS) as WriteBackSettingsView['actions'],
  };
}

export async function getWriteBackSettings(
  deps: Deps,
  actor: Actor,
  integrationId: string,
): Promise<WriteBackSettingsView> {
  const integration = await loadIntegration(deps, actor, integrationId, 'integrations.read');
  return view(deps, integration.id);
}

/** Turns switches on or off; the ones not named keep their value. Takes effect for actions from now on. */
export async function updateWriteBackSettings(
  deps: Deps,
  actor: Actor,
  integrationId: string,
  input: WriteBackSettingsBody,
): Promise<WriteBackSettingsView> {
  const integration = await loadIntegration(deps, actor, integrationId, 'integrations.manage');
  const changes = Object.entries({ ...input.targets, ...input.actions }).filter(
    (entry): entry is [string, boolean] => typeof entry[1] === 'boolean',
  );
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    for (const [kind, enabled] of changes)
      await trx
        .insertInto('hub_writeback_settings')
        .values({
          integration_id: integration.id,
          kind,
          enabled: enabled ? 1 : 0,
          updated_by: actor.userId,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['integration_id', 'kind'])
            .doUpdateSet({ enabled: enabled ? 1 : 0, updated_by: actor.userId, updated_at: now }),
        )
        .execute();
  });
  return view(deps, integration.id);
}
