import { AppError } from '@calmhub/platform';
import { attachedComponents } from '../../components/store.js';
import { detailsOf } from '../../components/views.js';
import { isStoryDone, openDependencies, refreshCalmDependencies } from '../../dependencies/index.js';
import { refreshFeatureTransports, unreleasedTransports } from '../../inbox/status-actions.js';
import { VALIDATION_CHECKS, type ValidationCheck, type ValidationTask } from '../../pipelines/definition.js';
import type { StoryComponentsTable } from '../../store/tables.js';
import type { TaskContext, TaskOutcome } from './task-context.js';

export interface CheckResult {
  check: ValidationCheck;
  passed: boolean;
  message: string;
  findings: unknown[];
}

const objectKey = (o: { type: string; name: string }) => `${o.type.toUpperCase()} ${o.name.toUpperCase()}`;

/** The ABAP objects of transport components, each with the transport that carries it. */
function objectsIn(components: StoryComponentsTable[]): Map<string, string> {
  const objects = new Map<string, string>();
  for (const component of components) {
    const details = detailsOf(component);
    if (details.kind !== 'abap_transport') continue;
    for (const object of details.abapTransport.objects)
      objects.set(objectKey(object), details.abapTransport.number);
  }
  return objects;
}

/**
 * The downgrade risk: objects of this story's transports that transports of other open stories
 * carry too, where those stories have not passed into this stage yet (bound for the same target).
 */
async function objectOverlap(context: TaskContext<ValidationTask>): Promise<CheckResult> {
  const { deps, story, run } = context;
  const mine = objectsIn(await attachedComponents(deps.db, story.tenant_id, story.id));
  // The transports of every other story of the project, with where that story stands, at once.
  const rows = await deps.db
    .selectFrom('hub_story_components as c')
    .innerJoin('hub_calm_stories as s', 's.id', 'c.story_id')
    .leftJoin('hub_story_stages as p', 'p.story_id', 's.id')
    .selectAll('c')
    .select(['s.display_id', 's.title', 's.status', 'p.stage_index', 'p.state'])
    .where('c.tenant_id', '=', story.tenant_id)
    .where('s.project_id', '=', story.project_id)
    .where('c.kind', '=', 'abap_transport')
    .where('c.detached_at', 'is', null)
    .where('s.obsolete', '=', 0)
    .where('s.id', '!=', story.id)
    .orderBy('c.created_at')
    .execute();
  const findings: Array<{ object: string; transport: string; otherStory: string; otherTransport: string }> =
    [];
  for (const row of rows) {
    if (isStoryDone(row.status)) continue;
    const index = row.stage_index ?? 0;
    const passedHere = index > run.stage_index || (index === run.stage_index && row.state === 'passed');
    if (passedHere) continue;
    for (const [object, transport] of objectsIn([row])) {
      const own = mine.get(object);
      if (own)
        findings.push({
          object,
          transport: own,
          otherStory: row.display_id ?? row.title,
          otherTransport: transport,
        });
    }
  }
  return {
    check: 'object_overlap',
    passed: findings.length === 0,
    message:
      findings.length === 0
        ? `No object of the story's transports is in another open story's transports (${mine.size} objects checked)`
        : `${findings.length} object(s) also in other open stories' transports: ${findings
            .slice(0, 5)
            .map((f) => `${f.object} (${f.transport}; ${f.otherStory} ${f.otherTransport})`)
            .join(', ')}${findings.length > 5 ? ', …' : ''}`,
    findings,
  };
}

async function transportsReleased(context: TaskContext<ValidationTask>): Promise<CheckResult> {
  const { deps, story } = context;
  const integration = await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('id', '=', story.integration_id)
    .executeTakeFirst();
  if (integration && story.feature_calm_uuid) {
    try {
      await refreshFeatureTransports(deps, integration, story.feature_calm_uuid);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      await context.log(
        'warn',
        `Cloud ALM's transport list could not be read (${error.message}); judged on what the hub knows`,
      );
    }
  }
  const missing = (await unreleasedTransports(deps.db, story.integration_id, story.id)).filter(
    (m) => m.kind === 'not_released',
  );
  return {
    check: 'transports_released',
    passed: missing.length === 0,
    message:
      missing.length === 0
        ? 'Every transport of the story is released'
        : `Not released: ${missing.map((m) => (m.kind === 'not_released' ? `${m.transport} (${m.status})` : '')).join(', ')}`,
    findings: missing,
  };
}

async function dependenciesDone(context: TaskContext<ValidationTask>): Promise<CheckResult> {
  const { deps, story } = context;
  try {
    await refreshCalmDependencies(deps, story.tenant_id, story.id);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    await context.log(
      'warn',
      `Cloud ALM's task relations could not be read (${error.message}); judged on the recorded dependencies`,
    );
  }
  const open = await openDependencies(deps.db, story.tenant_id, story.id);
  return {
    check: 'dependencies',
    passed: open.length === 0,
    message:
      open.length === 0
        ? 'Every story this one depends on is done'
        : `Waiting on unfinished dependencies: ${open.map((d) => d.label).join(', ')}`,
    findings: open,
  };
}

const CHECKS: Record<ValidationCheck, (context: TaskContext<ValidationTask>) => Promise<CheckResult>> = {
  transports_released: transportsReleased,
  dependencies: dependenciesDone,
  object_overlap: objectOverlap,
};

/** Runs the task's checks (all by default); passes when every one passes. */
export async function runValidationTask(context: TaskContext<ValidationTask>): Promise<TaskOutcome> {
  const results: CheckResult[] = [];
  for (const check of context.task.checks ?? VALIDATION_CHECKS) {
    const result = await CHECKS[check](context);
    await context.log(result.passed ? 'info' : 'error', `${check}: ${result.message}`);
    results.push(result);
  }
  const failed = results.filter((r) => !r.passed);
  return {
    state: failed.length === 0 ? 'passed' : 'failed',
    message:
      failed.length === 0
        ? `${context.task.name} passed (${results.map((r) => r.check).join(', ')})`
        : `${context.task.name} failed: ${failed.map((r) => r.message).join('; ')}${context.task.continueOnFailure ? ' (continuing)' : ''}`,
    result: { checks: results },
  };
}
