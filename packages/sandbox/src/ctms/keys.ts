import type { SandboxContext } from '../app/context.js';
import { buildServiceKey, createClient } from '../auth/clients.js';
import { fullScope } from '../auth/scopes.js';
import { ensureServiceClient } from '../auth/service-clients.js';
import { getMeta } from '../store/meta.js';
import { CTMS_SCOPES } from './model.js';

/** The CTMS service key layout (reference §3a): XSUAA credentials in `uaa`, the API base in `uri`. */
export interface CtmsServiceKey {
  uaa: {
    clientid: string;
    clientsecret: string;
    url: string;
    uaadomain: string;
    identityzone: string;
    tenantid: string;
    xsappname: string;
    'credential-type': 'binding-secret';
  };
  uri: string;
  sandbox: { scopes: string[]; tokenUrl: string };
}

const META_KEY = 'ctms_default_client_id';

function keyFor(
  ctx: SandboxContext,
  client: Parameters<typeof buildServiceKey>[1],
  secret: string,
  tenantId: string,
): CtmsServiceKey {
  const base = buildServiceKey(ctx, client, secret, tenantId);
  return {
    uaa: base.uaa,
    uri: `${ctx.publicUrl()}/ctms`,
    sandbox: {
      scopes: client.scopes.map((scope) => fullScope(ctx.xsappname, scope)),
      tokenUrl: `${ctx.publicUrl()}/oauth/token`,
    },
  };
}

/** Service key of the default CTMS client (every CTMS scope), made on first use and kept across restarts. */
export async function defaultCtmsServiceKey(ctx: SandboxContext): Promise<CtmsServiceKey> {
  const { client, secret } = await ensureServiceClient(ctx, {
    metaKey: META_KEY,
    name: 'Cloud Transport Management (default key)',
    scopes: [...CTMS_SCOPES],
  });
  return keyFor(ctx, client, secret, (await getMeta(ctx.db, 'tenant_id')) ?? '');
}

/** Another CTMS service key, e.g. with fewer scopes for authorisation tests. */
export async function createCtmsServiceKey(
  ctx: SandboxContext,
  input: { name: string; scopes?: string[] | undefined },
): Promise<CtmsServiceKey> {
  const { client, secret } = await createClient(ctx, {
    name: input.name,
    scopes: input.scopes ?? [...CTMS_SCOPES],
  });
  return keyFor(ctx, client, secret, (await getMeta(ctx.db, 'tenant_id')) ?? '');
}
