import { readFileSync } from 'node:fs';
import { clientFlagsHelp, runClient } from '../client/client-command.js';
import { type Column, printJson, printTable } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';
import { findStory } from './stories.js';

export interface Component {
  id: string;
  kind: 'abap_transport' | 'cpi_artifact' | 'deliverable';
  abapTransport: {
    number: string;
    description: string | null;
    owner: string | null;
    sourceSystem: string | null;
    targetSystem: string | null;
    status: string;
    objects: Array<{ pgmid: string | null; type: string; name: string }>;
  } | null;
  cpiArtifact: { packageId: string; artifactId: string; version: string | null } | null;
  deliverable: { name: string; url: string } | null;
  updatedAt: string;
}

function whatOf(c: Component): string {
  if (c.abapTransport) return c.abapTransport.number;
  if (c.cpiArtifact)
    return `${c.cpiArtifact.packageId}/${c.cpiArtifact.artifactId}${c.cpiArtifact.version ? `@${c.cpiArtifact.version}` : ''}`;
  return c.deliverable?.name ?? '';
}

function detailOf(c: Component): string {
  if (c.abapTransport) {
    const t = c.abapTransport;
    const route = t.sourceSystem || t.targetSystem ? `${t.sourceSystem ?? '?'}→${t.targetSystem ?? '?'}` : '';
    return [t.status, route, `${t.objects.length} object(s)`, t.description ?? ''].filter(Boolean).join('  ');
  }
  return c.deliverable?.url ?? '';
}

export const componentColumns: Column<Component>[] = [
  ['kind', (c) => c.kind],
  ['component', whatOf],
  ['details', detailOf],
  ['id', (c) => c.id],
];

interface Suggestion {
  number: string;
  description: string | null;
  owner: string | null;
  status: string;
  attachedTo: Array<{ displayId: string | null; title: string }>;
}

function readObjects(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--objects ${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
}

type Values = Record<string, string | boolean | undefined>;

/** The POST body from the flags: exactly one of --transport, --cpi-package/--cpi-artifact, --deliverable/--url. */
function attachBody(values: Values): Record<string, unknown> {
  const str = (flag: string) => values[flag] as string | undefined;
  const given = [str('transport'), str('cpi-package') ?? str('cpi-artifact'), str('deliverable')].filter(
    (v) => v !== undefined,
  );
  if (given.length !== 1)
    throw new UsageError(
      'give one of --transport N, --cpi-package P --cpi-artifact A, --deliverable NAME --url URL',
    );
  const shared = values['allow-shared'] ? { allowShared: true } : {};
  const transport = str('transport');
  if (transport !== undefined) {
    const fields = {
      description: 'description',
      owner: 'owner',
      source: 'sourceSystem',
      target: 'targetSystem',
      status: 'status',
    };
    const body: Record<string, unknown> = { number: transport.toUpperCase() };
    for (const [flag, key] of Object.entries(fields)) if (str(flag) !== undefined) body[key] = str(flag);
    const file = str('objects');
    if (file !== undefined) body.objectsText = readObjects(file);
    return { abapTransport: body, ...shared };
  }
  if (str('deliverable') !== undefined) {
    const url = str('url');
    if (!url) throw new UsageError('--deliverable needs --url');
    return { deliverable: { name: str('deliverable'), url } };
  }
  const packageId = str('cpi-package');
  const artifactId = str('cpi-artifact');
  if (!packageId || !artifactId)
    throw new UsageError('a CPI artifact needs --cpi-package and --cpi-artifact');
  return { cpiArtifact: { packageId, artifactId, ...(str('version') ? { version: str('version') } : {}) } };
}

const flags = {
  project: { type: 'string' },
  transport: { type: 'string' },
  objects: { type: 'string' },
  description: { type: 'string' },
  owner: { type: 'string' },
  source: { type: 'string' },
  target: { type: 'string' },
  status: { type: 'string' },
  'allow-shared': { type: 'boolean' },
  'cpi-package': { type: 'string' },
  'cpi-artifact': { type: 'string' },
  version: { type: 'string' },
  deliverable: { type: 'string' },
  url: { type: 'string' },
} as const;

export const componentsCommand: Command = {
  name: 'components',
  summary: "a story's components (transports, CPI artifacts, deliverables): list, add, remove, suggest",
  help: [
    'Usage: calmhub components [list] <story> [--project P]',
    '       calmhub components add <story> --transport S4DK900121 [--objects FILE] [--description D] [--owner O]',
    '                                      [--source SYS] [--target SYS] [--status modifiable|released] [--allow-shared]',
    '       calmhub components add <story> --cpi-package P --cpi-artifact A [--version V]',
    '       calmhub components add <story> --deliverable NAME --url URL',
    '       calmhub components remove <component id>',
    '       calmhub components suggest <story>     transports Cloud ALM lists on the feature, not attached yet',
    '',
    '<story> is the hub id or the Cloud ALM display id. --objects reads an SE09/ADT export (`R3TR CLAS ZCL_FOO`',
    'lines) or JSON. A transport another open story has is refused, naming that story, unless --allow-shared.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(args, io, flags, async ({ api, values, positionals, json }) => {
      const [first, second] = positionals;
      const action = first && ['list', 'add', 'remove', 'suggest'].includes(first) ? first : 'list';
      const ref = action === 'list' && first !== 'list' ? first : second;
      if (!ref)
        throw new UsageError(
          `components ${action} needs a ${action === 'remove' ? 'component id' : 'story'}`,
        );
      if (action === 'remove') {
        await api.delete(`/api/v1/components/${encodeURIComponent(ref)}`);
        if (!json) io.stdout.write(`detached ${ref}\n`);
        return 0;
      }
      const story = await findStory(api, ref, values.project);
      if (action === 'add') {
        const created = await api.post<Component>(
          `/api/v1/stories/${story.id}/components`,
          attachBody(values),
        );
        json ? printJson(io, created) : printTable(io, [created], componentColumns);
        return 0;
      }
      if (action === 'suggest') {
        const { items } = await api.get<{ items: Suggestion[] }>(
          `/api/v1/stories/${story.id}/transport-suggestions`,
        );
        if (json) printJson(io, items);
        else
          printTable(io, items, [
            ['transport', (t) => t.number],
            ['status', (t) => t.status],
            ['owner', (t) => t.owner],
            ['description', (t) => t.description],
            ['attached to', (t) => t.attachedTo.map((a) => a.displayId ?? a.title)],
          ]);
        return 0;
      }
      const { items } = await api.get<{ items: Component[] }>(`/api/v1/stories/${story.id}/components`);
      json ? printJson(io, items) : printTable(io, items, componentColumns);
      return 0;
    }),
};
