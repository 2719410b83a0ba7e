import { readFileSync, writeFileSync } from 'node:fs';
import { type ApiClient, ApiError } from '../client/api-client.js';
import { clientFlagsHelp, required, runClient } from '../client/client-command.js';
import { type Column, printFields, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command, Io } from './command.js';
import { findProject } from './credentials.js';

export interface PipelineSummary {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
  isDefault: boolean;
  version: number;
  stages: Array<{ key: string; name: string }>;
  updatedAt: string;
}

interface ImportResult {
  outcome: 'created' | 'updated' | 'unchanged';
  pipeline: PipelineSummary;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const columns: Column<PipelineSummary>[] = [
  ['name', (p) => p.name],
  ['default', (p) => (p.isDefault ? 'yes' : '')],
  ['version', (p) => p.version],
  ['stages', (p) => p.stages.map((stage) => stage.key).join(' → ')],
  ['updated', (p) => p.updatedAt],
  ['id', (p) => p.id],
];

/** A pipeline by id, or by name in the given project (else in all the caller's projects). */
export async function findPipeline(
  api: ApiClient,
  ref: string,
  projectRef?: string,
): Promise<PipelineSummary> {
  if (UUID.test(ref)) {
    try {
      return await api.get<PipelineSummary>(`/api/v1/pipelines/${ref}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      // a pipeline may be named like an id: look it up by name below
    }
  }
  const projects = projectRef
    ? [await findProject(api, projectRef)]
    : (await api.get<{ items: Array<{ id: string; name: string }> }>('/api/v1/projects')).items;
  const found: Array<{ pipeline: PipelineSummary; project: string }> = [];
  for (const project of projects) {
    const { items } = await api.get<{ items: PipelineSummary[] }>(`/api/v1/projects/${project.id}/pipelines`);
    for (const pipeline of items)
      if (pipeline.name.toLowerCase() === ref.toLowerCase()) found.push({ pipeline, project: project.name });
  }
  const [first] = found;
  if (!first) throw new ApiError(404, 'not_found', `no pipeline "${ref}"`);
  if (found.length > 1)
    throw new UsageError(
      `"${ref}" names pipelines in several projects (${found.map((f) => f.project).join(', ')}); add --project`,
    );
  return first.pipeline;
}

function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
}

function printPipeline(io: Io, pipeline: PipelineSummary): void {
  printFields(io, [
    ['pipeline', pipeline.name],
    ['id', pipeline.id],
    ['default', pipeline.isDefault ? 'yes' : 'no'],
    ['version', pipeline.version],
    ['stages', pipeline.stages.map((stage) => `${stage.key} (${stage.name})`).join(' → ')],
    ['description', pipeline.description],
  ]);
}

const flags = {
  project: { type: 'string' },
  out: { type: 'string' },
  version: { type: 'string' },
} as const;

export const pipelinesCommand: Command = {
  name: 'pipelines',
  summary: "a project's release pipelines: list, import and export YAML (pipeline as code), set the default",
  help: [
    'Usage: calmhub pipelines [list] --project P',
    '       calmhub pipelines show <pipeline> [--project P]',
    '       calmhub pipelines import --project P FILE     create it, or save a new version of the one of that name',
    '       calmhub pipelines export <pipeline> [--project P] [--version N] [--out FILE]',
    '       calmhub pipelines default <pipeline> [--project P]',
    '',
    '<pipeline> is the id or the name. FILE is YAML; errors name the line and the path in the file.',
    'An import equal to the current version changes nothing. export writes to stdout without --out.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(args, io, flags, async ({ api, values, positionals, json }) => {
      const [action = 'list', ref] = positionals;
      switch (action) {
        case 'list': {
          const project = await findProject(api, required(values.project, 'project'));
          const { items } = await api.get<{ items: PipelineSummary[] }>(
            `/api/v1/projects/${project.id}/pipelines`,
          );
          json ? printJson(io, items) : printTable(io, items, columns);
          return 0;
        }
        case 'import': {
          const project = await findProject(api, required(values.project, 'project'));
          if (!ref) throw new UsageError('pipelines import needs a YAML file');
          // A JSON string body is read as YAML by the hub, so its errors name lines of the file.
          const result = await api.post<ImportResult>(
            `/api/v1/projects/${project.id}/pipelines/import`,
            readFile(ref),
          );
          if (json) printJson(io, result);
          else
            io.stdout.write(
              `${result.outcome} pipeline "${result.pipeline.name}" (version ${result.pipeline.version}${result.pipeline.isDefault ? ', default' : ''})\n`,
            );
          return 0;
        }
        case 'show':
        case 'export':
        case 'default': {
          if (!ref) throw new UsageError(`pipelines ${action} needs a pipeline (id or name)`);
          const pipeline = await findPipeline(api, ref, values.project);
          if (action === 'show') {
            const full = await api.get<PipelineSummary>(`/api/v1/pipelines/${pipeline.id}`);
            json ? printJson(io, full) : printPipeline(io, full);
            return 0;
          }
          if (action === 'default') {
            const updated = await api.post<PipelineSummary>(`/api/v1/pipelines/${pipeline.id}/default`);
            json
              ? printJson(io, updated)
              : io.stdout.write(`"${updated.name}" is the project's default pipeline\n`);
            return 0;
          }
          if (values.version !== undefined && !/^[1-9]\d*$/.test(values.version))
            throw new UsageError('--version takes a version number');
          const version = values.version ? Number(values.version) : pipeline.version;
          const yaml = await api.getText(
            `/api/v1/pipelines/${pipeline.id}/export${values.version ? `?version=${version}` : ''}`,
            'text/yaml',
          );
          if (values.out) writeFileSync(values.out, yaml);
          if (json)
            printJson(io, { id: pipeline.id, name: pipeline.name, version, file: values.out ?? null, yaml });
          else if (values.out)
            io.stdout.write(`wrote "${pipeline.name}" version ${version} to ${values.out}\n`);
          else io.stdout.write(yaml);
          return 0;
        }
        default:
          throw new UsageError(`unknown action "${action}" (list, show, import, export, default)`);
      }
    }),
};
