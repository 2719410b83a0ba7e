import { AppError, writeJson } from '@calmhub/platform';
import type { Static } from 'typebox';
import type { Actor } from '../access/actor.js';
import { notFound, requireProjectAction } from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import { invalidField } from '../credentials/credential-input.js';
import { lockForTransaction } from '../store/lock.js';
import type { StoryComponentsTable } from '../store/tables.js';
import { findStory } from '../stories/store.js';
import { writeBackComponent } from '../writeback/component-actions.js';
import { componentObject } from './attach-component.js';
import type { UpdateComponentBody } from './schemas.js';
import { findComponent } from './store.js';
import { assertTransportFree } from './transport-conflict.js';
import { transportDetails } from './transport-details.js';
import {
  type ComponentDetails,
  type ComponentView,
  componentView,
  detailsOf,
  storedDetails,
} from './views.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'store' | 'queue' | 'publicBaseUrl' | 'config'>;
export type UpdateComponentInput = Static<typeof UpdateComponentBody>;

const KEY_OF = {
  abap_transport: 'abapTransport',
  cpi_artifact: 'cpiArtifact',
  deliverable: 'deliverable',
} as const;

/** An attached component of the caller's tenant, after checking `action` in its project. */
export async function loadComponent(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<StoryComponentsTable> {
  const row = await findComponent(deps.db, actor.tenantId, id);
  if (!row) throw notFound('component', id);
  try {
    await requireProjectAction(deps.db, actor, row.project_id, action);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') throw notFound('component', id);
    throw error;
  }
  return row;
}

export async function updateComponent(
  deps: Deps,
  actor: Actor,
  id: string,
  input: UpdateComponentInput,
  requestId?: string,
): Promise<ComponentView> {
  const row = await loadComponent(deps, actor, id, 'components.manage');
  const key = KEY_OF[row.kind];
  for (const other of Object.values(KEY_OF))
    if (other !== key && input[other] !== undefined)
      throw invalidField(other, `cannot be changed on a ${row.kind} component (detach it and attach anew)`);
  const current = detailsOf(row);
  let next: ComponentDetails = current;
  if (current.kind === 'abap_transport' && input.abapTransport) {
    const story = await findStory(deps.db, actor.tenantId, row.story_id);
    if (!story) throw notFound('component', id);
    next = {
      kind: 'abap_transport',
      abapTransport: await transportDetails(deps.db, story, input.abapTransport, current.abapTransport),
    };
  } else if (current.kind === 'cpi_artifact' && input.cpiArtifact) {
    next = { kind: 'cpi_artifact', cpiArtifact: { ...current.cpiArtifact, ...input.cpiArtifact } };
  } else if (current.kind === 'deliverable' && input.deliverable) {
    const name = input.deliverable.name?.trim();
    next = {
      kind: 'deliverable',
      deliverable: { ...current.deliverable, ...input.deliverable, ...(name ? { name } : {}) },
    };
  }
  const changes = {
    details: writeJson(storedDetails(next)),
    transport_id: next.kind === 'abap_transport' ? next.abapTransport.number : null,
    updated_by: actor.userId,
    updated_at: deps.clock.now(),
  };
  await deps.db.transaction().execute(async (trx) => {
    if (changes.transport_id && changes.transport_id !== row.transport_id) {
      const story = await findStory(trx, actor.tenantId, row.story_id);
      if (!story) throw notFound('component', id);
      await lockForTransaction(
        trx,
        deps.store.dialect,
        `transport:${actor.tenantId}:${changes.transport_id}`,
      );
      await assertTransportFree(trx, actor, story, changes.transport_id, {
        allowShared: input.allowShared === true,
        exceptComponentId: row.id,
      });
    }
    await trx
      .updateTable('hub_story_components')
      .set(changes)
      .where('id', '=', id)
      .where('tenant_id', '=', actor.tenantId)
      .execute();
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: row.project_id,
      occurredAt: changes.updated_at,
      kind: 'component.updated',
      object: componentObject(row),
      before: componentView(row),
      after: componentView({ ...row, ...changes }),
    });
  });
  return componentView({ ...row, ...changes });
}

/** Detaches a component: it leaves the story's list, and the row keeps who detached it and when. */
export async function detachComponent(
  deps: Deps,
  actor: Actor,
  id: string,
  requestId?: string,
): Promise<void> {
  const row = await loadComponent(deps, actor, id, 'components.manage');
  const now = deps.clock.now();
  const changes = { detached_by: actor.userId, detached_at: now, updated_by: actor.userId, updated_at: now };
  await deps.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('hub_story_components')
      .set(changes)
      .where('id', '=', id)
      .where('tenant_id', '=', actor.tenantId)
      .where('detached_at', 'is', null)
      .executeTakeFirst();
    // Detaching twice changes nothing, so it records nothing.
    if (Number(result.numUpdatedRows) === 0) return;
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: row.project_id,
      occurredAt: now,
      kind: 'component.detached',
      object: componentObject(row),
      before: componentView(row),
    });
    await writeBackComponent(deps, trx, actor, row, 'detached');
  });
}
