import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { requireProjectAction } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import { currentDefinition, loadPipeline } from './load-pipeline.js';
import { pipelineToYaml } from './pipeline-yaml.js';
import { findVersion, projectPipelines, versionsOf } from './store.js';
import {
  definitionOf,
  type PipelineSummaryView,
  type PipelineVersionSummaryView,
  type PipelineVersionView,
  type PipelineView,
  pipelineSummaryView,
  pipelineView,
  versionSummaryView,
  versionView,
} from './views.js';

type Deps = Pick<HubDeps, 'db'>;

function noVersion(id: string, version: number): AppError {
  return new AppError('not_found', `Pipeline ${id} has no version ${version}`);
}

/** A project's pipelines: the default first, then by name. */
export async function listPipelines(
  deps: Deps,
  actor: Actor,
  projectId: string,
): Promise<PipelineSummaryView[]> {
  await requireProjectAction(deps.db, actor, projectId, 'pipelines.read');
  const rows = await projectPipelines(deps.db, actor.tenantId, projectId);
  return Promise.all(
    rows.map(async (row) => pipelineSummaryView(row, await currentDefinition(deps.db, row))),
  );
}

export async function getPipeline(deps: Deps, actor: Actor, id: string): Promise<PipelineView> {
  const row = await loadPipeline(deps, actor, id, 'pipelines.read');
  return pipelineView(row, await currentDefinition(deps.db, row));
}

/** Every saved version, newest first. */
export async function listPipelineVersions(
  deps: Deps,
  actor: Actor,
  id: string,
): Promise<PipelineVersionSummaryView[]> {
  await loadPipeline(deps, actor, id, 'pipelines.read');
  return (await versionsOf(deps.db, actor.tenantId, id)).map(versionSummaryView);
}

export async function getPipelineVersion(
  deps: Deps,
  actor: Actor,
  id: string,
  version: number,
): Promise<PipelineVersionView> {
  await loadPipeline(deps, actor, id, 'pipelines.read');
  const row = await findVersion(deps.db, actor.tenantId, id, version);
  if (!row) throw noVersion(id, version);
  return versionView(row);
}

/** The current (or a given) version as a YAML file, and a file name for it. */
export async function exportPipeline(
  deps: Deps,
  actor: Actor,
  id: string,
  version?: number,
): Promise<{ yaml: string; fileName: string }> {
  const pipeline = await loadPipeline(deps, actor, id, 'pipelines.read');
  const wanted = version ?? pipeline.current_version;
  const row = await findVersion(deps.db, actor.tenantId, id, wanted);
  if (!row) throw noVersion(id, wanted);
  const slug =
    pipeline.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'pipeline';
  return { yaml: pipelineToYaml(definitionOf(row), { version: wanted }), fileName: `${slug}.pipeline.yaml` };
}
