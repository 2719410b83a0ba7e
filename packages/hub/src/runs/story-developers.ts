import { readJson } from '@calmhub/platform';
import { attachedComponents } from '../components/store.js';
import { detailsOf } from '../components/views.js';
import type { CalmStoriesTable } from '../store/tables.js';
import type { Db } from './run-store.js';

/**
 * The hub users who count as a story's developers for segregation of duties: the story's Cloud
 * ALM assignee (by e-mail), the owners of its transports (by SAP user id), and whoever attached
 * its components. Each with why.
 */
export async function storyDevelopers(db: Db, story: CalmStoriesTable): Promise<Map<string, string>> {
  const developers = new Map<string, string>();
  const users = await db
    .selectFrom('hub_users')
    .select(['id', 'email', 'sap_user_ids'])
    .where('tenant_id', '=', story.tenant_id)
    .execute();
  const assignee = story.assignee_id?.toLowerCase();
  const components = await attachedComponents(db, story.tenant_id, story.id);
  const owners = new Map<string, string>();
  for (const component of components) {
    const details = detailsOf(component);
    if (details.kind === 'abap_transport' && details.abapTransport.owner)
      owners.set(details.abapTransport.owner.toUpperCase(), details.abapTransport.number);
  }
  const attachedBy = new Set(components.map((c) => c.created_by));
  for (const user of users) {
    const sapIds = readJson<string[]>(user.sap_user_ids).map((s) => s.toUpperCase());
    const owned = sapIds.find((s) => owners.has(s));
    const why =
      assignee && user.email.toLowerCase() === assignee
        ? 'the story is assigned to you in Cloud ALM'
        : owned
          ? `you own transport ${owners.get(owned)} of the story (SAP user ${owned})`
          : attachedBy.has(user.id)
            ? "you attached the story's components"
            : undefined;
    if (why) developers.set(user.id, why);
  }
  return developers;
}

/** What an approver approves: the story's components and their versions, as they are now. */
export async function componentEvidence(db: Db, story: CalmStoriesTable): Promise<unknown[]> {
  const components = await attachedComponents(db, story.tenant_id, story.id);
  return components.map((c): unknown => {
    const details = detailsOf(c);
    switch (details.kind) {
      case 'abap_transport': {
        const t = details.abapTransport;
        return {
          kind: details.kind,
          id: c.id,
          transport: t.number,
          status: t.status,
          owner: t.owner,
          objects: t.objects.length,
        };
      }
      case 'cpi_artifact': {
        const a = details.cpiArtifact;
        return {
          kind: details.kind,
          id: c.id,
          packageId: a.packageId,
          artifactId: a.artifactId,
          version: a.version ?? 'active',
        };
      }
      default:
        return {
          kind: details.kind,
          id: c.id,
          ...details.deliverable,
          changedAt: new Date(c.updated_at).toISOString(),
        };
    }
  });
}
