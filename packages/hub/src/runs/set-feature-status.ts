import { type JobContext, RetryJobError } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, systemAudit } from '../audit/record-audit.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import { recordRunEvent, runById, runSubject } from './run-store.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors'>;

/**
 * The optional stage passed → feature status map: PATCHes the story's Cloud ALM feature to the
 * stage's `featureStatusOnPass` through the Features API. Cloud ALM's status rules decide: a
 * refusal is recorded (timeline, audit), not retried; an outage is retried.
 */
export async function setFeatureStatus(
  deps: Deps,
  runId: string,
  job: Pick<JobContext, 'step'>,
): Promise<void> {
  const run = await runById(deps.db, runId);
  if (run?.state !== 'passed') return;
  const subject = await runSubject(deps.db, run);
  const statusCode = subject?.stage.featureStatusOnPass;
  const story = subject?.story;
  const integration = story
    ? await deps.db
        .selectFrom('hub_integrations')
        .selectAll()
        .where('id', '=', story.integration_id)
        .executeTakeFirst()
    : undefined;
  if (!statusCode || !story?.feature_calm_uuid || integration?.enabled !== 1) return;
  const featureUuid = story.feature_calm_uuid;
  const credential = await resolveCredentialForProject(
    deps,
    integration.tenant_id,
    integration.project_id,
    integration.credential_id,
  );
  const calm = deps.connectors.cloudAlm(credential, integration.host_url);
  let outcome: { ok: boolean; message: string };
  try {
    outcome = await job.step('feature-status', async () => {
      const feature = await calm.getFeature(featureUuid);
      if (!feature) return { ok: false, message: `Feature ${featureUuid} is gone from Cloud ALM` };
      if (feature.statusCode === statusCode)
        return { ok: true, message: `Feature ${feature.displayId ?? featureUuid} is ${statusCode} already` };
      await calm.updateFeatureStatus(featureUuid, statusCode);
      return {
        ok: true,
        message: `Feature ${feature.displayId ?? featureUuid} set to ${statusCode} (was ${feature.statusCode})`,
      };
    });
  } catch (error) {
    if (!(error instanceof RemoteCallError)) throw error;
    if (error.retryable) throw new RetryJobError(error.message, error.retryAt);
    outcome = { ok: false, message: `Cloud ALM refused feature status ${statusCode}: ${error.message}` };
  }
  await deps.db.transaction().execute(async (trx) => {
    await recordRunEvent(trx, run, {
      at: deps.clock.now(),
      kind: 'run',
      state: run.state,
      actor: 'calmhub',
      message: outcome.message,
    });
    await recordAudit(trx, {
      ...systemAudit('pipeline', 'calmhub pipeline'),
      tenantId: run.tenant_id,
      projectId: run.project_id,
      occurredAt: deps.clock.now(),
      kind: outcome.ok ? 'run.feature_status_set' : 'run.feature_status_refused',
      object: { kind: 'feature', id: featureUuid, label: story.display_id ?? story.title },
      after: { runId: run.id, statusCode, message: outcome.message },
    });
  });
}
