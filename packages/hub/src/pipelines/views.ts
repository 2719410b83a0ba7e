import { readJson } from '@calmhub/platform';
import { iso } from '../access/views.js';
import type { PipelinesTable, PipelineVersionsTable } from '../store/tables.js';
import type { PipelineDefinition } from './definition.js';

export interface PipelineSummaryView {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
  isDefault: boolean;
  version: number;
  stages: Array<{ key: string; name: string }>;
  updatedBy: string;
  updatedAt: string;
}

export interface PipelineView extends PipelineSummaryView {
  definition: PipelineDefinition;
  createdBy: string;
  createdAt: string;
}

export interface PipelineVersionSummaryView {
  pipelineId: string;
  version: number;
  name: string;
  createdBy: string;
  createdAt: string;
}

export interface PipelineVersionView extends PipelineVersionSummaryView {
  definition: PipelineDefinition;
}

export const definitionOf = (row: PipelineVersionsTable): PipelineDefinition =>
  readJson<PipelineDefinition>(row.definition);

export function pipelineSummaryView(
  row: PipelinesTable,
  definition: PipelineDefinition,
): PipelineSummaryView {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    description: definition.description ?? null,
    isDefault: row.is_default === 1,
    version: row.current_version,
    stages: definition.stages.map((stage) => ({ key: stage.key, name: stage.name })),
    updatedBy: row.updated_by,
    updatedAt: iso(row.updated_at),
  };
}

export function pipelineView(row: PipelinesTable, definition: PipelineDefinition): PipelineView {
  return {
    ...pipelineSummaryView(row, definition),
    definition,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
  };
}

export function versionSummaryView(row: PipelineVersionsTable): PipelineVersionSummaryView {
  return {
    pipelineId: row.pipeline_id,
    version: row.version,
    name: definitionOf(row).name,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
  };
}

export function versionView(row: PipelineVersionsTable): PipelineVersionView {
  return { ...versionSummaryView(row), definition: definitionOf(row) };
}
