import { SYNC_PHASES, type SyncMode } from '@calmhub/hub';
import cliProgress from 'cli-progress';
import type { ApiClient } from '../client/api-client.js';
import { clientFlagsHelp, required, runClient } from '../client/client-command.js';
import { printFields, printJson } from '../client/output.js';
import { UsageError } from '../usage-error.js';
import type { Command } from './command.js';
import { findIntegrationId } from './webhook.js';

interface SyncRun {
  id: string;
  mode: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: {
    phase: string;
    pages: number;
    items: number;
    waitingUntil: string | null;
    lastError: string | null;
  };
  counts: Record<
    'created' | 'updated' | 'unchanged' | 'obsolete' | 'transitions' | 'transports' | 'calls',
    number
  >;
  error: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

/** Follows a run until it ends, drawing phase, pages and items on a progress bar (stderr, TTY only). */
async function follow(api: ApiClient, run: SyncRun, showBar: boolean, intervalMs = 200): Promise<SyncRun> {
  const phases: string[] = SYNC_PHASES[run.mode as SyncMode] ?? SYNC_PHASES.full;
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {phase} | {pages} pages | {items} items{note}',
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const payload = (r: SyncRun) => ({
    phase: r.progress.phase,
    pages: r.progress.pages,
    items: r.progress.items,
    note: r.progress.waitingUntil ? ` | Cloud ALM asked to wait until ${r.progress.waitingUntil}` : '',
  });
  bar?.start(phases.length - 1, Math.max(0, phases.indexOf(run.progress.phase)), payload(run));
  let current = run;
  while (current.state === 'queued' || current.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    current = await api.get<SyncRun>(`/api/v1/sync-runs/${current.id}`);
    bar?.update(Math.max(0, phases.indexOf(current.progress.phase)), payload(current));
  }
  bar?.stop();
  return current;
}

export const syncCommand: Command = {
  name: 'sync',
  summary: "Sync User Stories: pull an integration's Cloud ALM project, with live progress",
  help: [
    'Usage: calmhub sync <integration> [--project P] [--mode full|delta|sweep] [--no-wait]',
    '',
    'Starts a sync (full by default: every feature, user story, link and transport of the Cloud ALM',
    'project; delta: what changed since the last sync; sweep: finds deletions), shows its progress and',
    'ends with the counts. <integration> is an id, or a name with --project. With --json only the JSON',
    'result is printed. Exit code 1 when the sync failed.',
    '',
    clientFlagsHelp,
  ].join('\n'),
  run: (args, io) =>
    runClient(
      args,
      io,
      { project: { type: 'string' }, mode: { type: 'string' }, 'no-wait': { type: 'boolean' } },
      async ({ api, values, positionals, json }) => {
        const mode = values.mode ?? 'full';
        if (!['full', 'delta', 'sweep'].includes(mode))
          throw new UsageError('--mode is full, delta or sweep');
        const integrationId = await findIntegrationId(
          api,
          required(positionals[0], 'integration (argument)'),
          values.project,
        );
        const started = await api.post<SyncRun>(`/api/v1/integrations/${integrationId}/sync`, { mode });
        const run = values['no-wait']
          ? started
          : await follow(api, started, !json && process.stderr.isTTY === true);
        if (json) {
          printJson(io, run);
        } else {
          printFields(io, [
            ['sync', `${run.mode} ${run.id}`],
            ['state', run.state],
            ...(run.error ? ([['error', run.error]] as Array<[string, unknown]>) : []),
            ['pages', run.progress.pages],
            ['items', run.progress.items],
            ['created', run.counts.created],
            ['updated', run.counts.updated],
            ['unchanged', run.counts.unchanged],
            ['obsolete', run.counts.obsolete],
            ['transitions', run.counts.transitions],
            ['transports', run.counts.transports],
            ['calls', run.counts.calls],
          ]);
        }
        return run.state === 'failed' ? 1 : 0;
      },
    ),
};
