import { writeJson } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { demoTransportObjects } from '../transports/objects.js';
import { ctmsDb } from './model.js';
import type { AbapObject } from './service.js';

/** The ABAP systems behind the demo nodes: transports released in S4D are exported from DEV. */
export const DEMO_SYSTEMS: Record<string, string> = { DEV: 'S4D', QAS: 'S4Q', PRD: 'S4P' };

/** Queue statuses of a demo feature's transport in QAS and PRD, following the feature's status. */
const PLACEMENT: Record<string, { QAS?: string; PRD?: string }> = {
  IN_TESTING: { QAS: 'succeeded' },
  SUCCESSFULLY_TESTED: { QAS: 'succeeded', PRD: 'initial' },
  APPROVED_FOR_DEPLOYMENT: { QAS: 'succeeded', PRD: 'initial' },
  CONFIRMED: { QAS: 'succeeded', PRD: 'succeeded' },
};

/** A plausible object list for a finance feature (the same one the Cloud ALM demo seed gives its transports). */
export function demoObjects(title: string): AbapObject[] {
  return demoTransportObjects(title);
}

/**
 * The landscape DEV → QAS → PRD and one CTMS request per released demo transport, queued where
 * the demo feature's status says it has got to (tested features are imported into QAS, approved
 * ones wait in PRD, deployed ones are imported everywhere). Every transport of the demo project,
 * released or not, is known as an ABAP request with an object list. Idempotent.
 */
export async function seedCtmsDemo(ctx: SandboxContext): Promise<void> {
  const db = ctmsDb(ctx);
  const existing = await db
    .selectFrom('ctms_nodes')
    .select('id')
    .where('name', '=', 'DEV')
    .executeTakeFirst();
  if (existing) {
    // A landscape seeded before nodes knew their systems gets them now (only where none is set).
    for (const [name, system] of Object.entries(DEMO_SYSTEMS)) {
      const taken = await db
        .selectFrom('ctms_nodes')
        .select('id')
        .where('system_id', '=', system)
        .executeTakeFirst();
      if (taken) continue;
      await db
        .updateTable('ctms_nodes')
        .set({ system_id: system })
        .where('name', '=', name)
        .where('system_id', 'is', null)
        .execute();
    }
    return;
  }
  const transports = await ctx.db
    .selectFrom('sandbox_transports')
    .innerJoin(
      'sandbox_transport_references',
      'sandbox_transport_references.transport_uuid',
      'sandbox_transports.uuid',
    )
    .innerJoin('sandbox_features', 'sandbox_features.uuid', 'sandbox_transport_references.parent_uuid')
    .select([
      'sandbox_transports.uuid',
      'sandbox_transports.transport_id',
      'sandbox_transports.description',
      'sandbox_transports.owner',
      'sandbox_transports.status',
      'sandbox_transports.created_at',
      'sandbox_features.title',
      'sandbox_features.status_code',
    ])
    .where('sandbox_features.project_id', '=', DEMO_PROJECT_ID)
    .orderBy('sandbox_transports.transport_id')
    .execute();
  // The Cloud ALM transports carry their object lists; older data may not (then one is made up).
  const objectRows = await ctx.db
    .selectFrom('sandbox_transport_objects')
    .selectAll()
    .orderBy('transport_uuid')
    .orderBy('position')
    .execute();
  const objectsOf = new Map<string, AbapObject[]>();
  for (const row of objectRows) {
    const list = objectsOf.get(row.transport_uuid) ?? [];
    list.push({ pgmid: row.pgmid, type: row.object_type, name: row.object_name });
    objectsOf.set(row.transport_uuid, list);
  }
  const base = Date.parse('2026-03-02T08:00:00Z');
  await db.transaction().execute(async (trx) => {
    const nodes: Record<string, number> = {};
    for (const [name, description] of [
      ['DEV', 'Development (S/4HANA S4D, BTP dev subaccount): uploads from CI pipelines'],
      ['QAS', 'Quality assurance (S/4HANA S4Q, BTP test subaccount)'],
      ['PRD', 'Production (S/4HANA S4P, BTP production subaccount)'],
    ] as const) {
      const row = await trx
        .insertInto('ctms_nodes')
        .values({
          name,
          description,
          content_type: 'MTA',
          forward_mode: 'POST_IMPORT',
          upload_allowed: 1,
          is_virtual: 0,
          created_at: base,
          changed_at: base,
          system_id: DEMO_SYSTEMS[name] ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      nodes[name] = Number(row.id);
    }
    for (const [source, target] of [
      ['DEV', 'QAS'],
      ['QAS', 'PRD'],
    ] as const) {
      await trx
        .insertInto('ctms_routes')
        .values({
          name: `${source}_${target}`,
          description: `${source} to ${target}`,
          source_node_id: nodes[source] as number,
          target_node_id: nodes[target] as number,
          created_at: base,
        })
        .execute();
    }
    const positions: Record<string, number> = { QAS: 0, PRD: 0 };
    for (const transport of transports) {
      const description = transport.description ?? transport.title;
      const owner = transport.owner ?? 'sandbox';
      await trx
        .insertInto('ctms_abap_transports')
        .values({
          number: transport.transport_id,
          description,
          owner,
          objects: writeJson(objectsOf.get(transport.uuid) ?? demoObjects(transport.title)),
          created_at: transport.created_at,
        })
        .execute();
      const placement = PLACEMENT[transport.status_code];
      if (transport.status !== 'released' || !placement) continue;
      const tr = await trx
        .insertInto('ctms_transport_requests')
        .values({
          description,
          content_type: 'ABAP',
          storage_type: 'FILE',
          entries: writeJson([]),
          created_by: 'sandbox-seed',
          created_by_named_user: owner,
          created_at: transport.created_at,
          origin: 'DEV',
          abap_number: transport.transport_id,
          fail_status: null,
          fail_message: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const trId = Number(tr.id);
      await trx
        .updateTable('ctms_transport_requests')
        .set({
          entries: writeJson([
            { id: trId * 1000 + 1, uri: transport.transport_id, fileName: transport.transport_id },
          ]),
        })
        .where('id', '=', trId)
        .execute();
      for (const node of ['QAS', 'PRD'] as const) {
        const status = placement[node];
        if (!status) continue;
        positions[node] = (positions[node] ?? 0) + 1;
        await trx
          .insertInto('ctms_queue_entries')
          .values({
            transport_request_id: trId,
            node_id: nodes[node] as number,
            status,
            position: positions[node] as number,
            queued_at: transport.created_at,
            archived: 0,
          })
          .execute();
      }
    }
  });
}
