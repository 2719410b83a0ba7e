import { writeJson } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { ctmsDb } from './model.js';
import type { AbapObject } from './service.js';

/** Queue statuses of a demo feature's transport in QAS and PRD, following the feature's status. */
const PLACEMENT: Record<string, { QAS?: string; PRD?: string }> = {
  IN_TESTING: { QAS: 'succeeded' },
  SUCCESSFULLY_TESTED: { QAS: 'succeeded', PRD: 'initial' },
  APPROVED_FOR_DEPLOYMENT: { QAS: 'succeeded', PRD: 'initial' },
  CONFIRMED: { QAS: 'succeeded', PRD: 'succeeded' },
};

function slug(title: string): string {
  return title
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 18);
}

/** A plausible object list for a finance feature: a report, a class, a CDS view and customizing. */
export function demoObjects(title: string): AbapObject[] {
  const name = slug(title);
  return [
    { pgmid: 'R3TR', type: 'PROG', name: `ZFI_${name}` },
    { pgmid: 'R3TR', type: 'CLAS', name: `ZCL_FI_${name}`.slice(0, 30) },
    { pgmid: 'R3TR', type: 'DDLS', name: `ZI_FI_${name}`.slice(0, 30) },
    { pgmid: 'R3TR', type: 'TABU', name: 'T001B' },
  ];
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
  if (existing) return;
  const transports = await ctx.db
    .selectFrom('sandbox_transports')
    .innerJoin(
      'sandbox_transport_references',
      'sandbox_transport_references.transport_uuid',
      'sandbox_transports.uuid',
    )
    .innerJoin('sandbox_features', 'sandbox_features.uuid', 'sandbox_transport_references.parent_uuid')
    .select([
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
          objects: writeJson(demoObjects(transport.title)),
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
