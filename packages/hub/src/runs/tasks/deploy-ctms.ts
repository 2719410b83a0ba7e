import { request } from 'undici';
import { attachedComponents } from '../../components/store.js';
import { detailsOf } from '../../components/views.js';
import type { CtmsClient, CtmsLog, CtmsTransportRequest } from '../../connectors/ctms/client.js';
import type { DeploymentTask } from '../../pipelines/definition.js';
import { targetCredential } from '../targets.js';
import { pause, type TaskContext, type TaskOutcome } from './task-context.js';

/** Statuses CTMS imports from (CTMS-SKILL); an errored request must be reset first. */
const IMPORTABLE = new Set(['initial', 'repeatable', 'fatal']);
const RESETTABLE = new Set(['error']);
const DONE = new Set(['succeeded', 'warning']);
const FINAL_ACTION = new Set(['succeeded', 'warning', 'error', 'fatal', 'skipped', 'deleted']);
const POLL_LIMIT_MS = 30 * 60_000;

const marker = (runId: string, componentId: string) => `[calmhub:${runId}:${componentId}]`;

interface Planned {
  /** What the story calls it: a transport number or an archive's name. */
  label: string;
  requestId: number;
}

/** Finds the story's transports in the node's queue (entry uri = the transport number). */
async function plannedTransports(
  context: TaskContext<DeploymentTask>,
  queue: CtmsTransportRequest[],
): Promise<{ planned: Planned[]; missing: string[] }> {
  const components = await attachedComponents(context.deps.db, context.story.tenant_id, context.story.id);
  const numbers = components.flatMap((c) => {
    const d = detailsOf(c);
    return d.kind === 'abap_transport' ? [d.abapTransport.number] : [];
  });
  const planned: Planned[] = [];
  const missing: string[] = [];
  for (const number of numbers) {
    // The newest request carrying the transport: a re-released transport is queued again.
    const match = queue
      .filter((r) => r.entries.some((e) => e.uri.toUpperCase() === number))
      .sort((a, b) => b.id - a.id)[0];
    if (match) planned.push({ label: number, requestId: match.id });
    else missing.push(number);
  }
  return { planned, missing };
}

/** Uploads each MTA archive attached to the story (deliverables ending in .mtar) into the node's queue, once. */
async function plannedArchives(
  context: TaskContext<DeploymentTask>,
  ctms: CtmsClient,
  nodeId: number,
  nodeName: string,
  namedUser: string,
): Promise<{ planned: Planned[]; missing: string[] }> {
  const components = await attachedComponents(context.deps.db, context.story.tenant_id, context.story.id);
  const planned: Planned[] = [];
  for (const component of components) {
    const d = detailsOf(component);
    if (
      d.kind !== 'deliverable' ||
      !/\.mtar$/i.test(new URL(d.deliverable.url).pathname + d.deliverable.name)
    )
      continue;
    const tag = marker(context.run.id, component.id);
    const requestId = await context.step(`mta:${component.id}`, async () => {
      // An upload whose answer was lost left a request with our marker: found, not repeated.
      const existing = (await ctms.queue(nodeId)).find((r) => r.description.includes(tag));
      if (existing) return existing.id;
      const response = await request(d.deliverable.url, { signal: AbortSignal.timeout(120_000) });
      if (response.statusCode >= 300) {
        await response.body.dump();
        throw new Error(`Downloading ${d.deliverable.name} answered ${response.statusCode}`);
      }
      const content = Buffer.from(await response.body.arrayBuffer());
      const file = await ctms.uploadFile(
        d.deliverable.name.endsWith('.mtar') ? d.deliverable.name : `${d.deliverable.name}.mtar`,
        content,
        namedUser,
      );
      const created = await ctms.uploadToNode({
        nodeName,
        fileId: file.fileId,
        contentType: 'MTA',
        namedUser,
        description: `${context.story.display_id ?? context.story.title} ${d.deliverable.name} ${tag}`.slice(
          0,
          255,
        ),
      });
      await context.log(
        'info',
        `Uploaded ${d.deliverable.name} (${content.length} bytes) to ${nodeName}: transport request ${created.transportRequestId}`,
      );
      return created.transportRequestId;
    });
    planned.push({ label: d.deliverable.name, requestId });
  }
  return { planned, missing: [] };
}

const logText = (logs: CtmsLog[]) => logs.flatMap((l) => l.messages.map((m) => `${m.severity} ${m.message}`));

/**
 * A CTMS deployment: the story's transport requests (or its uploaded MTA archives) imported into
 * the stage's node, polled to the end, with the import log kept. Every write is preceded by a
 * read of the request's status, so a job resumed after a crash neither resets nor imports twice.
 */
export async function runCtmsDeployment(context: TaskContext<DeploymentTask>): Promise<TaskOutcome> {
  const { deps, run, stage, task } = context;
  const target = stage.targets?.ctms;
  if (!target) return { state: 'failed', message: `${task.name}: stage ${stage.key} has no CTMS target` };
  const credential = await targetCredential(deps, run.tenant_id, run.project_id, target.credential);
  const ctms = deps.connectors.ctms(credential);
  const node = await ctms.findNode(target.node);
  if (!node) return { state: 'failed', message: `${task.name}: CTMS has no node ${target.node}` };
  const namedUser = run.requested_by_label;

  const { planned, missing } =
    task.kind === 'mta_upload'
      ? await plannedArchives(context, ctms, node.id, node.name, namedUser)
      : await plannedTransports(context, await ctms.queue(node.id));
  if (missing.length > 0)
    return {
      state: 'failed',
      message: `${task.name}: not in ${node.name}'s import queue: ${missing.join(', ')} (released and forwarded?)`,
      result: { node: node.name, missing },
    };
  if (planned.length === 0)
    return {
      state: 'passed',
      message: `${task.name}: nothing to import into ${node.name}`,
      result: { node: node.name, imported: [] },
    };

  const statusOf = async () => {
    const queue = await ctms.queue(node.id);
    return new Map(
      planned.map((p) => [p.requestId, queue.find((r) => r.id === p.requestId)?.status ?? 'unknown']),
    );
  };
  await context.step('reset', async () => {
    const errored = [...(await statusOf())].filter(([, s]) => RESETTABLE.has(s)).map(([id]) => id);
    if (errored.length === 0) return [];
    await ctms.resetRequests(node.id, errored, namedUser);
    await context.log(
      'info',
      `Reset ${errored.join(', ')} in ${node.name} (an errored request cannot be imported again)`,
    );
    return errored;
  });
  const action = await context.step('import', async () => {
    const statuses = await statusOf();
    const ids = [...statuses].filter(([, s]) => IMPORTABLE.has(s)).map(([id]) => id);
    const already = [...statuses].filter(([, s]) => !IMPORTABLE.has(s));
    if (already.length > 0)
      await context.log('info', `Not imported again: ${already.map(([id, s]) => `${id} (${s})`).join(', ')}`);
    if (ids.length === 0) return { actionId: null as number | null, ids };
    const { actionId } = await ctms.importRequests(node.id, ids, namedUser);
    await context.log('info', `Import of ${ids.join(', ')} into ${node.name} started (action ${actionId})`);
    return { actionId: actionId as number | null, ids };
  });

  // Polls until every request is final; the action's status when there is one.
  const started = deps.clock.now();
  let wait = 250;
  let statuses = await statusOf();
  for (;;) {
    if (action.actionId !== null) {
      const state = await ctms.action(action.actionId);
      if (FINAL_ACTION.has(state.status)) {
        statuses = await statusOf();
        break;
      }
    } else {
      statuses = await statusOf();
      if (![...statuses.values()].some((s) => s === 'running' || s === 'initial')) break;
    }
    if (deps.clock.now() - started > POLL_LIMIT_MS)
      return {
        state: 'failed',
        message: `${task.name}: the import into ${node.name} still runs after 30 minutes`,
      };
    await context.checkStillRunning();
    await pause(wait, context.signal);
    wait = Math.min(wait * 2, 5000);
  }

  const logs =
    action.actionId !== null
      ? await ctms.actionLogs(action.actionId)
      : (await Promise.all(planned.map((p) => ctms.requestLogs(node.id, p.requestId)))).flat();
  const lines = logText(logs);
  for (const line of lines) await context.log(/^[EFA]/.test(line) ? 'error' : 'info', `CTMS: ${line}`);
  const failed = planned.filter((p) => !DONE.has(statuses.get(p.requestId) ?? ''));
  const result = {
    node: node.name,
    actionId: action.actionId,
    requests: planned.map((p) => ({ ...p, status: statuses.get(p.requestId) })),
    log: lines,
  };
  if (failed.length > 0) {
    const errors = lines.filter((l) => /^[EFA]\s/.test(l)).join(' | ');
    return {
      state: 'failed',
      message: `${task.name}: import into ${node.name} failed for ${failed.map((f) => `${f.label} (${statuses.get(f.requestId)})`).join(', ')}${errors ? `: ${errors}` : ''}`,
      result,
    };
  }
  return {
    state: 'passed',
    message: `${planned.map((p) => p.label).join(', ')} imported into ${node.name}`,
    result,
  };
}
