import type { Kysely } from 'kysely';
import type { HubTables } from '../store/tables.js';
import {
  type DefinitionIssue,
  definitionError,
  definitionIssues,
  namedCredentials,
  readDefinition,
} from './check-definition.js';
import type { PipelineDefinition } from './definition.js';
import { locateIssues, type PipelineYaml } from './pipeline-yaml.js';
import { credentialByName } from './store.js';

/** What each target needs its credential to be (`hub_credentials.system`). */
const SYSTEM_OF_TARGET = { ctms: 'ctms', cloud_integration: 'cloud_integration' } as const;

async function credentialIssues(
  db: Kysely<HubTables>,
  tenantId: string,
  projectId: string,
  definition: PipelineDefinition,
): Promise<DefinitionIssue[]> {
  const issues: DefinitionIssue[] = [];
  for (const named of namedCredentials(definition)) {
    const credential = await credentialByName(db, tenantId, projectId, named.name);
    if (!credential)
      issues.push({
        segments: named.segments,
        message: `names no credential of this project or tenant ("${named.name}")`,
      });
    else if (credential.system !== SYSTEM_OF_TARGET[named.system])
      issues.push({
        segments: named.segments,
        message: `names a ${credential.system} credential; this target needs a ${SYSTEM_OF_TARGET[named.system]} one`,
      });
  }
  return issues;
}

/**
 * A definition as saved: its shape, the rules across fields, and the credentials it names (they
 * must exist, be global or the project's own, and be of the target's system). Every problem is a
 * 400 naming its path; from YAML, also its line and column.
 */
export async function validatePipeline(
  db: Kysely<HubTables>,
  tenantId: string,
  projectId: string,
  value: unknown,
  yaml?: PipelineYaml,
): Promise<PipelineDefinition> {
  const located = (issues: DefinitionIssue[]) => (yaml ? locateIssues(yaml, issues) : issues);
  const read = readDefinition(value);
  if (!read.ok) throw definitionError(located(read.issues));
  const issues = [
    ...definitionIssues(read.definition),
    ...(await credentialIssues(db, tenantId, projectId, read.definition)),
  ];
  if (issues.length > 0) throw definitionError(located(issues));
  return read.definition;
}
