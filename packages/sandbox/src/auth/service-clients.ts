import type { SandboxContext } from '../app/context.js';
import { getMeta, setMeta } from '../store/meta.js';
import {
  clientSecret,
  createClient,
  getClient,
  rotateClientSecret,
  type TechnicalClient,
} from './clients.js';

/**
 * The default technical client of another emulated service (CTMS, Cloud Integration): an ordinary
 * sandbox client whose scopes belong to that service, remembered under `metaKey` so that restarts
 * keep the same credentials and the service key file stays valid.
 */
export async function ensureServiceClient(
  ctx: SandboxContext,
  input: { metaKey: string; name: string; scopes: string[] },
): Promise<{ client: TechnicalClient; secret: string }> {
  const knownId = await getMeta(ctx.db, input.metaKey);
  const known = knownId ? await getClient(ctx.db, knownId) : undefined;
  if (known) {
    const secret =
      (await clientSecret(ctx, known.clientId)) ?? (await rotateClientSecret(ctx, known.clientId));
    if (secret !== undefined) return { client: known, secret };
  }
  const created = await createClient(ctx, { name: input.name, scopes: input.scopes });
  await setMeta(ctx.db, input.metaKey, created.client.clientId);
  return created;
}
