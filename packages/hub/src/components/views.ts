import { readJson } from '@calmhub/platform';
import { iso } from '../access/views.js';
import type { ComponentKind, StoryComponentsTable } from '../store/tables.js';
import type { TransportObject } from './parse-objects.js';

export interface AbapTransportDetails {
  number: string;
  description: string | null;
  owner: string | null;
  sourceSystem: string | null;
  targetSystem: string | null;
  status: 'modifiable' | 'released';
  objects: TransportObject[];
  calmTransportUuid: string | null;
}

export interface CpiArtifactDetails {
  packageId: string;
  artifactId: string;
  version: string | null;
}

export interface DeliverableDetails {
  name: string;
  url: string;
}

/** What `hub_story_components.details` holds, per kind. */
export type ComponentDetails =
  | { kind: 'abap_transport'; abapTransport: AbapTransportDetails }
  | { kind: 'cpi_artifact'; cpiArtifact: CpiArtifactDetails }
  | { kind: 'deliverable'; deliverable: DeliverableDetails };

export interface ComponentView {
  id: string;
  storyId: string;
  kind: ComponentKind;
  abapTransport: AbapTransportDetails | null;
  cpiArtifact: CpiArtifactDetails | null;
  deliverable: DeliverableDetails | null;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
}

export function detailsOf(row: StoryComponentsTable): ComponentDetails {
  const stored = readJson<Record<string, unknown>>(row.details);
  switch (row.kind) {
    case 'abap_transport':
      return { kind: row.kind, abapTransport: stored as unknown as AbapTransportDetails };
    case 'cpi_artifact':
      return { kind: row.kind, cpiArtifact: stored as unknown as CpiArtifactDetails };
    case 'deliverable':
      return { kind: row.kind, deliverable: stored as unknown as DeliverableDetails };
  }
}

export function storedDetails(details: ComponentDetails): unknown {
  switch (details.kind) {
    case 'abap_transport':
      return details.abapTransport;
    case 'cpi_artifact':
      return details.cpiArtifact;
    case 'deliverable':
      return details.deliverable;
  }
}

export function componentView(row: StoryComponentsTable): ComponentView {
  const details = detailsOf(row);
  return {
    id: row.id,
    storyId: row.story_id,
    kind: row.kind,
    abapTransport: details.kind === 'abap_transport' ? details.abapTransport : null,
    cpiArtifact: details.kind === 'cpi_artifact' ? details.cpiArtifact : null,
    deliverable: details.kind === 'deliverable' ? details.deliverable : null,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedBy: row.updated_by,
    updatedAt: iso(row.updated_at),
  };
}
