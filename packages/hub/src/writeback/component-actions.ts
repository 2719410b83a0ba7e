import type { Actor } from '../access/actor.js';
import { detailsOf } from '../components/views.js';
import type { StoryComponentsTable } from '../store/tables.js';
import { type EnqueueDeps, enqueueWriteBack, type WriteBackEnqueued } from './enqueue-write-back.js';
import type { Db } from './store.js';

/** "transport S4DK900121", "CPI artifact Payments_iFlow 1.0.3", "deliverable Spec". */
export function componentLabel(row: StoryComponentsTable): string {
  const details = detailsOf(row);
  if (details.kind === 'abap_transport') return `transport ${details.abapTransport.number}`;
  if (details.kind === 'cpi_artifact')
    return `CPI artifact ${details.cpiArtifact.artifactId}${details.cpiArtifact.version ? ` ${details.cpiArtifact.version}` : ''}`;
  return `deliverable ${details.deliverable.name}`;
}

/** Reports a component attached to or detached from its story, in the caller's transaction. */
export function writeBackComponent(
  deps: EnqueueDeps,
  trx: Db,
  actor: Actor,
  row: StoryComponentsTable,
  change: 'attached' | 'detached',
): Promise<WriteBackEnqueued> {
  return enqueueWriteBack(deps, trx, {
    tenantId: row.tenant_id,
    storyId: row.story_id,
    action: change === 'attached' ? 'component.attached' : 'component.detached',
    text: `calmhub: ${componentLabel(row)} ${change} by ${actor.email}`,
  });
}
