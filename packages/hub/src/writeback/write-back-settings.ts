import type { Actor } from '../access/actor.js';
import type { HubDeps } from '../app/deps.js';
import { loadIntegration } from '../integrations/load-integration.js';
import { WRITE_BACK_ACTIONS, WRITE_BACK_TARGETS } from './actions.js';
import type { WriteBackSettingsBody, WriteBackSettingsView } from './schemas.js';
import { switchesOf } from './store.js';

type Deps = Pick<HubDeps, 'db' | 'clock'>;

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
  const integration = await loadIntegration(deps.db, actor, integrationId, 'integrations.read');
  return view(deps, integration.id);
}

/** Turns switches on or off; the ones not named keep their value. Takes effect for actions from now on. */
export async function updateWriteBackSettings(
  deps: Deps,
  actor: Actor,
  integrationId: string,
  input: WriteBackSettingsBody,
): Promise<WriteBackSettingsView> {
  const integration = await loadIntegration(deps.db, actor, integrationId, 'integrations.manage');
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
