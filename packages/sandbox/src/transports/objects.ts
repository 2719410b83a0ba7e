import { checkStorable } from '../shared/body.js';
import type { SandboxExecutor } from '../store/tables.js';

/** One entry of a transport's object list, as SE09 shows it: `R3TR PROG ZFI_REPORT`. */
export interface TransportObject {
  pgmid: string;
  type: string;
  name: string;
}

/** A plausible object list for a finance feature: a report, a class, a CDS view and customizing. */
export function demoTransportObjects(title: string): TransportObject[] {
  const name = title
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 18);
  return [
    { pgmid: 'R3TR', type: 'PROG', name: `ZFI_${name}` },
    { pgmid: 'R3TR', type: 'CLAS', name: `ZCL_FI_${name}`.slice(0, 30) },
    { pgmid: 'R3TR', type: 'DDLS', name: `ZI_FI_${name}`.slice(0, 30) },
    { pgmid: 'R3TR', type: 'TABU', name: 'T001B' },
  ];
}

function objectRows(
  uuid: string,
  objects: readonly { pgmid?: string | undefined; type: string; name: string }[],
) {
  return objects.map((object, index) => ({
    transport_uuid: uuid,
    position: index + 1,
    pgmid: checkStorable(object.pgmid ?? 'R3TR', 'pgmid'),
    object_type: checkStorable(object.type, 'type'),
    object_name: checkStorable(object.name, 'name'),
  }));
}

/** Replaces a transport's object list (both engines cap bound parameters, hence the chunks). */
export async function setTransportObjects(
  db: SandboxExecutor,
  uuid: string,
  objects: readonly { pgmid?: string | undefined; type: string; name: string }[],
): Promise<void> {
  await db.deleteFrom('sandbox_transport_objects').where('transport_uuid', '=', uuid).execute();
  const rows = objectRows(uuid, objects);
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insertInto('sandbox_transport_objects')
      .values(rows.slice(i, i + 1000))
      .execute();
  }
}
