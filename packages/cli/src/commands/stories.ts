import type { ApiClient } from '../client/api-client.js';
import { ApiError } from '../client/api-client.js';
import { clientFlagsHelp, required, runClient } from '../client/client-command.js';
import { type Column, printFields, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command, Io } from './command.js';
import { type Component, componentColumns } from './components.js';
import { findProject } from './credentials.js';

interface CalmLink {
  id: string;
  url: string;
  inferred: boolean;
}

interface FeatureSummary {
  id: string;
  displayId: string | null;
  title: string;
  status: { code: string; name: string | null };
  externalId: CalmLink;
}

export interface StorySummary {
  id: string;
  calmId: string;
  displayId: string | null;
  title: string;
  status: string;
  assigneeId: string | null;
  obsolete: boolean;
  labels: string[];
  componentCount: number;
  externalId: CalmLink;
}

interface StoryGroups {
  groups: Array<{ feature: FeatureSummary | null; stories: StorySummary[] }>;
  total: number;
  offset: number;
  nextOffset: number | null;
}

export interface Story extends StorySummary {
  subStatus: string | null;
  syncedAt: string;
  integration: { id: string; name: string };
  descriptionHtml: string | null;
  feature: FeatureSummary | null;
  calm: Record<string, unknown>;
  transitions: Array<{ from: string | null; to: string; changedAt: string; source: string }>;
  notes: string | null;
  components: Component[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const storyColumns: Column<StorySummary>[] = [
  ['story', (s) => s.externalId.id],
  ['title', (s) => (s.obsolete ? `${s.title} (obsolete)` : s.title)],
  ['status', (s) => s.status],
  ['assignee', (s) => s.assigneeId],
  ['labels', (s) => s.labels],
  ['components', (s) => s.componentCount],
  ['id', (s) => s.id],
];

/** Writes through `io`, each line indented. */
function indented(io: Io, prefix: string): Io {
  return {
    stdout: { write: (text: string) => io.stdout.write(text.replace(/^(?=.)/gm, prefix)) },
    stderr: io.stderr,
  };
}

/** Finds a story by hub id, or by Cloud ALM display id or id in the given project (else in all the caller's projects). */
export async function findStory(api: ApiClient, ref: string, projectRef?: string): Promise<Story> {
  if (UUID.test(ref)) {
    try {
      return await api.get<Story>(`/api/v1/stories/${ref}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      // a Cloud ALM id is a UUID too: look it up below
    }
  }
  const projects = projectRef
    ? [await findProject(api, projectRef)]
    : (await api.get<{ items: Array<{ id: string; name: string }> }>('/api/v1/projects')).items;
  const found: Array<{ story: StorySummary; project: string }> = [];
  for (const project of projects) {
    const page = await api.get<StoryGroups>(
      `/api/v1/projects/${project.id}/stories?search=${encodeURIComponent(ref)}&includeObsolete=true&limit=500`,
    );
    for (const group of page.groups)
      for (const story of group.stories)
        if (story.displayId?.toLowerCase() === ref.toLowerCase() || story.calmId === ref)
          found.push({ story, project: project.name });
  }
  if (found.length === 0) throw new ApiError(404, 'not_found', `no story "${ref}"`);
  if (found.length > 1)
    throw new UsageError(
      `"${ref}" names stories in several projects (${found.map((f) => f.project).join(', ')}); add --project`,
    );
  return api.get<Story>(`/api/v1/stories/${(found[0] as { story: StorySummary }).story.id}`);
}

/** The sanitised description as terminal text: block ends become line breaks, tags go. */
function plainText(html: string | null): string | null {
  if (!html) return null;
  return html
    .replace(/<\/(p|div|li|h\d|tr)>|<br\s*\/?>/gi, '\n')
    .replace(/<li[^>]*>/gi, '- ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

const codes = (value: string | undefined): string =>
  (value ?? '')
    .split(',')
    .map((code) => code.trim())
    .filter(Boolean)
    .map((code) => encodeURIComponent(code))
    .join(',');

function listQuery(values: Record<string, string | boolean | undefined>): string {
  const params: string[] = [];
  for (const [flag, key] of [
    ['feature-status', 'featureStatus'],
    ['status', 'status'],
  ] as const) {
    const list = codes(values[flag] as string | undefined);
    if (list) for (const code of list.split(',')) params.push(`${key}=${code}`);
  }
  if (values.search) params.push(`search=${encodeURIComponent(values.search as string)}`);
  if (values.all) params.push('includeObsolete=true');
  for (const flag of ['limit', 'offset', 'sort'] as const)
    if (values[flag] !== undefined) params.push(`${flag}=${encodeURIComponent(values[flag] as string)}`);
  return params.length ? `?${params.join('&')}` : '';
}

function printGroups(io: Io, page: StoryGroups): void {
  if (page.groups.length === 0) {
    io.stdout.write('(no stories)\n');
    return;
  }
  for (const { feature, stories } of page.groups) {
    if (feature) {
      const status = feature.status.name
        ? `${feature.status.name} (${feature.status.code})`
        : feature.status.code;
      io.stdout.write(`FEATURE ${feature.externalId.id}  ${feature.title}  [${status}]\n`);
      io.stdout.write(`  ${feature.externalId.url}\n`);
    } else io.stdout.write('NO FEATURE\n');
    printTable(indented(io, '  '), stories, storyColumns);
    io.stdout.write('\n');
  }
  const shown = page.groups.reduce((n, g) => n + g.stories.length, 0);
  const range = shown ? `${page.offset + 1}-${page.offset + shown}` : '0';
  io.stdout.write(
    `stories ${range} of ${page.total}${page.nextOffset === null ? '' : `; next page: --offset ${page.nextOffset}`}\n`,
  );
}

function printStory(io: Io, story: Story): void {
  printFields(io, [
    ['story', `${story.externalId.id}  ${story.title}`],
    ['id', story.id],
    ['status', story.subStatus ? `${story.status} / ${story.subStatus}` : story.status],
    ['feature', story.feature ? `${story.feature.externalId.id}  ${story.feature.title}` : null],
    ['assignee', story.assigneeId],
    ['labels', story.labels],
    ['notes', story.notes],
    ['cloud alm', `${story.externalId.url}${story.externalId.inferred ? '  (link form inferred)' : ''}`],
    ['integration', story.integration.name],
    ['synced', story.syncedAt],
    ['obsolete', story.obsolete ? 'yes (gone from Cloud ALM)' : 'no'],
  ]);
  const text = plainText(story.descriptionHtml);
  if (text) io.stdout.write(`\n${text}\n`);
  if (story.transitions.length) {
    io.stdout.write('\nSTATUS HISTORY\n');
    printTable(indented(io, '  '), story.transitions, [
      ['when', (t) => t.changedAt],
      ['from', (t) => t.from],
      ['to', (t) => t.to],
      ['seen by', (t) => t.source],
    ]);
  }
  io.stdout.write('\nCOMPONENTS\n');
  printTable(indented(io, '  '), story.components, componentColumns);
}

interface Dependency {
  storyId: string;
  displayId: string | null;
  title: string;
  status: string;
  open: boolean;
  source: 'hub' | 'calm';
}

const dependencyColumns: Column<Dependency>[] = [
  ['depends on', (d) => d.displayId ?? d.storyId],
  ['title', (d) => d.title],
  ['status', (d) => d.status],
  ['open', (d) => (d.open ? 'yes' : 'no')],
  ['source', (d) => (d.source === 'calm' ? 'Cloud ALM' : 'hub')],
];

/** `stories deps <story> [--add S | --remove S]`: a story's dependencies, changed first when asked. */
async function storyDependencies(
  api: ApiClient,
  io: Io,
  ref: string | undefined,
  values: { project?: string | undefined; add?: string | undefined; remove?: string | undefined },
  json: boolean,
): Promise<number> {
  if (!ref) throw new UsageError('stories deps needs a story (hub id or Cloud ALM display id)');
  if (values.add && values.remove) throw new UsageError('give --add or --remove, not both');
  const story = await findStory(api, ref, values.project);
  const path = `/api/v1/stories/${story.id}/dependencies`;
  const other = values.add ?? values.remove;
  if (other) {
    const target = await findStory(api, other, values.project);
    if (values.add) await api.post(path, { dependsOn: target.id });
    else await api.delete(`${path}/${target.id}`);
    if (!json)
      io.stdout.write(
        `${values.add ? 'added' : 'removed'}: ${story.externalId.id} depends on ${target.externalId.id}\n`,
      );
  }
  const list = await api.get<{ items: Dependency[]; calm: { refreshed: boolean; message: string | null } }>(
    path,
  );
  if (json) printJson(io, list);
  else {
    printTable(io, list.items, dependencyColumns);
    if (!list.calm.refreshed) io.stdout.write(`(Cloud ALM's relations not read: ${list.calm.message})\n`);
  }
  return 0;
}

const flags = {
  project: { type: 'string' },
  add: { type: 'string' },
  remove: { type: 'string' },
  'feature-status': { type: 'string' },
  status: { type: 'string' },
  search: { type: 'string' },
  sort: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  all: { type: 'boolean' },
} as const;

export const storiesCommand: Command = {
  name: 'stories',
  summary: "a project's user stories from Cloud ALM, grouped by feature; show one",
  help: [
    'Usage: calmhub stories [list] --project P [--feature-status S[,S]] [--status S[,S]] [--search T]',
    '                       [--sort feature|displayId|title|status|priority|modifiedAt] [--limit N] [--offset N] [--all]',
    '       calmhub stories show <story> [--project P]',
    '       calmhub stories deps <story> [--add <story> | --remove <story>] [--project P]',
    '',
    '<story> is the hub id or the Cloud ALM display id (or id). --all includes stories gone from Cloud ALM.',
    'Status codes are Cloud ALM codes, e.g. --status CIPUSOPEN,CIPUSINP --feature-status CIPREQUINP.',
    'deps lists what a story depends on (with Cloud ALM task relations); --add/--remove change the hub-side ones.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(args, io, flags, async ({ api, values, positionals, json }) => {
      const action = positionals[0] ?? 'list';
      if (action === 'list') {
        const project = await findProject(api, required(values.project, 'project'));
        const page = await api.get<StoryGroups>(`/api/v1/projects/${project.id}/stories${listQuery(values)}`);
        json ? printJson(io, page) : printGroups(io, page);
        return 0;
      }
      if (action === 'show') {
        const ref = positionals[1];
        if (!ref) throw new UsageError('stories show needs a story (hub id or Cloud ALM display id)');
        const story = await findStory(api, ref, values.project);
        json ? printJson(io, story) : printStory(io, story);
        return 0;
      }
      if (action === 'deps') return storyDependencies(api, io, positionals[1], values, json);
      throw new UsageError(`unknown action "${action}" (list, show, deps)`);
    }),
};
