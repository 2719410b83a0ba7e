import { readJson } from '@calmhub/platform';
import type { Selectable } from 'kysely';
import { iso } from '../access/views.js';
import type {
  CalmFeaturesTable,
  CalmStoriesTable,
  CalmTransportsTable,
  StatusTransitionsTable,
  StoryFieldsTable,
} from '../store/tables.js';
import { calmDeepLink, type DeepLink } from './deep-links.js';

export interface CalmLink extends DeepLink {
  id: string;
}

export interface FeatureSummary {
  id: string;
  calmUuid: string;
  displayId: string | null;
  title: string;
  status: { code: string; name: string | null };
  priorityCode: number | null;
  obsolete: boolean;
  externalId: CalmLink;
}

export interface StorySummary {
  id: string;
  calmId: string;
  displayId: string | null;
  title: string;
  status: string;
  subStatus: string | null;
  priorityId: number | null;
  assigneeId: string | null;
  obsolete: boolean;
  labels: string[];
  componentCount: number;
  modifiedAt: string;
  syncedAt: string;
  externalId: CalmLink;
}

export interface TransitionView {
  from: string | null;
  to: string;
  changedAt: string;
  source: string;
}

export interface CalmTransportView {
  calmUuid: string;
  number: string;
  description: string | null;
  owner: string | null;
  status: string;
  sourceSystem: string | null;
  targetSystem: string | null;
  obsolete: boolean;
}

/** `integration|list|code` → name, from the synced code lists. */
export type CodeNames = Map<string, string>;

export function featureSummary(row: CalmFeaturesTable, hostUrl: string, names: CodeNames): FeatureSummary {
  return {
    id: row.id,
    calmUuid: row.calm_uuid,
    displayId: row.display_id,
    title: row.title,
    status: {
      code: row.status_code,
      name: names.get(`${row.integration_id}|feature_status|${row.status_code}`) ?? null,
    },
    priorityCode: row.priority_code,
    obsolete: row.obsolete === 1,
    externalId: { id: row.display_id ?? row.calm_uuid, ...calmDeepLink(hostUrl, 'feature', row.calm_uuid) },
  };
}

export function storySummary(
  row: CalmStoriesTable,
  hostUrl: string,
  fields: StoryFieldsTable | undefined,
  componentCount: number,
): StorySummary {
  return {
    id: row.id,
    calmId: row.calm_id,
    displayId: row.display_id,
    title: row.title,
    status: row.status,
    subStatus: row.sub_status,
    priorityId: row.priority_id,
    assigneeId: row.assignee_id,
    obsolete: row.obsolete === 1,
    labels: fields ? readJson<string[]>(fields.labels) : [],
    componentCount,
    modifiedAt: iso(row.modified_at),
    syncedAt: iso(row.synced_at),
    externalId: { id: row.display_id ?? row.calm_id, ...calmDeepLink(hostUrl, 'story', row.calm_id) },
  };
}

export function transitionView(row: Selectable<StatusTransitionsTable>): TransitionView {
  return { from: row.from_status, to: row.to_status, changedAt: iso(row.changed_at), source: row.source };
}

export function calmTransportView(row: CalmTransportsTable): CalmTransportView {
  return {
    calmUuid: row.calm_uuid,
    number: row.transport_id,
    description: row.description,
    owner: row.owner,
    status: row.status,
    sourceSystem: row.source_system,
    targetSystem: row.target_system,
    obsolete: row.obsolete === 1,
  };
}

function pickString(raw: Record<string, unknown>, key: string): string | null {
  const value = raw[key];
  return typeof value === 'string' && value !== '' && value !== 'null' ? value : null;
}

function pickNumber(raw: Record<string, unknown>, key: string): number | null {
  const value = raw[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Cloud ALM task fields the hub has no column for, read from the synced entity. */
export function calmTaskFields(rawJson: string) {
  let raw: Record<string, unknown> = {};
  try {
    const parsed = readJson<unknown>(rawJson);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      raw = parsed as Record<string, unknown>;
  } catch {
    // a malformed raw copy shows no extra fields
  }
  return {
    type: pickString(raw, 'type'),
    assigneeName: pickString(raw, 'assigneeName'),
    startDate: pickString(raw, 'startDate'),
    dueDate: pickString(raw, 'dueDate'),
    storyPoints: pickNumber(raw, 'storyPoints'),
    effort: pickNumber(raw, 'effort'),
    externalId: pickString(raw, 'externalId'),
    createdAt: pickString(raw, 'createdTimestamp'),
  };
}
