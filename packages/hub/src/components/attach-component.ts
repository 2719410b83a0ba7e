import { randomUUID } from 'node:crypto';
import { AppError, writeJson } from '@calmhub/platform';
import type { Static } from 'typebox';
import type { Actor } from '../access/actor.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import type { AuditObject } from '../audit/types.js';
import { lockForTransaction } from '../store/lock.js';
import type { StoryComponentsTable } from '../store/tables.js';
import { loadStory } from '../stories/load-story.js';
import { writeBackComponent } from '../writeback/component-actions.js';
import type { AttachComponentBody } from './schemas.js';
import { assertTransportFree } from './transport-conflict.js';
import { transportDetails } from './transport-details.js';
import {
  type ComponentDetails,
  type ComponentView,
  componentView,
  detailsOf,
  storedDetails,
} from './views.js';

export type AttachComponentInput = Static<typeof AttachComponentBody>;

const KINDS = ['abapTransport', 'cpiArtifact', 'deliverable'] as const;

/** A component as the audit log names it: the transport number, artifact id or deliverable name. */
export function componentObject(row: StoryComponentsTable): AuditObject {
  const details = detailsOf(row);
  const label =
    details.kind === 'abap_transport'
      ? details.abapTransport.number
      : details.kind === 'cpi_artifact'
        ? details.cpiArtifact.artifactId
        : details.deliverable.name;
  return { kind: 'component', id: row.id, label };
}

/** Attaches a transport, CPI artifact or deliverable to a story; stamped with who and when. */
export async function attachComponent(
  deps: Pick<HubDeps, 'db' | 'clock' | 'store' | 'queue' | 'publicBaseUrl' | 'config'>,
  actor: Actor,
  storyId: string,
  input: AttachComponentInput,
  requestId?: string,
): Promise<ComponentView> {
  const story = await loadStory(deps, actor, storyId, 'components.manage');
  const given = KINDS.filter((kind) => input[kind] !== undefined);
  if (given.length !== 1)
    throw new AppError('validation_failed', `body needs exactly one of ${KINDS.join(', ')}`, {
      details: [{ location: 'body', message: `exactly one of ${KINDS.join(', ')}` }],
    });
  let details: ComponentDetails;
  if (input.abapTransport) {
    details = {
      kind: 'abap_transport',
      abapTransport: await transportDetails(deps.db, story, input.abapTransport),
    };
  } else if (input.cpiArtifact) {
    const { packageId, artifactId, version } = input.cpiArtifact;
    details = { kind: 'cpi_artifact', cpiArtifact: { packageId, artifactId, version: version ?? null } };
  } else {
    const { name, url } = input.deliverable as { name: string; url: string };
    details = { kind: 'deliverable', deliverable: { name: name.trim(), url } };
  }
  const now = deps.clock.now();
  const row: StoryComponentsTable = {
    id: randomUUID(),
    tenant_id: actor.tenantId,
    project_id: story.project_id,
    story_id: story.id,
    kind: details.kind,
    transport_id: details.kind === 'abap_transport' ? details.abapTransport.number : null,
    details: writeJson(storedDetails(details)),
    created_by: actor.userId,
    created_at: now,
    updated_by: actor.userId,
    updated_at: now,
    detached_by: null,
    detached_at: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    // Two attaches of one transport at once must not both pass the check.
    if (row.transport_id)
      await lockForTransaction(trx, deps.store.dialect, `transport:${actor.tenantId}:${row.transport_id}`);
    if (row.transport_id)
      await assertTransportFree(trx, actor, story, row.transport_id, {
        allowShared: input.allowShared === true,
      });
    await trx.insertInto('hub_story_components').values(row).execute();
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: row.project_id,
      occurredAt: now,
      kind: 'component.attached',
      object: componentObject(row),
      after: componentView(row),
    });
    await writeBackComponent(deps, trx, actor, row, 'attached');
  });
  return componentView(row);
}
