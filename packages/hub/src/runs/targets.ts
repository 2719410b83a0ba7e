import { AppError } from '@calmhub/platform';
import type { ResolvedCredential } from '../connectors/credential.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import { credentialByName } from '../pipelines/store.js';
import type { TaskDeps } from './tasks/task-context.js';

/**
 * The credential a pipeline target names, opened. Resolved when the task runs (not when the
 * pipeline was saved), so a rotated secret is used at once and a deleted one fails the task.
 */
export async function targetCredential(
  deps: Pick<TaskDeps, 'db' | 'secrets' | 'clock'>,
  tenantId: string,
  projectId: string,
  name: string,
): Promise<ResolvedCredential> {
  const found = await credentialByName(deps.db, tenantId, projectId, name);
  if (!found) throw new AppError('unprocessable', `No credential named "${name}" in this project or tenant`);
  return resolveCredentialForProject(deps, tenantId, projectId, found.id);
}
