import type { SandboxContext } from '../app/context.js';
import { createClient, type TechnicalClient } from '../auth/clients.js';
import { fullScope } from '../auth/scopes.js';
import { ensureServiceClient } from '../auth/service-clients.js';
import { CPI_SCOPES } from './service.js';

/**
 * The Cloud Integration "api" plan service key (reference §3b): Piper reads `oauth.url` as the
 * tenant host (API at `{url}/api/v1`) and `oauth.tokenurl` for client credentials.
 */
export interface CpiServiceKey {
  oauth: { clientid: string; clientsecret: string; url: string; tokenurl: string; createdate: string };
  sandbox: { scopes: string[]; basicAuth: string };
}

const META_KEY = 'cpi_default_client_id';

function keyFor(ctx: SandboxContext, client: TechnicalClient, secret: string): CpiServiceKey {
  const base = ctx.publicUrl();
  return {
    oauth: {
      clientid: client.clientId,
      clientsecret: secret,
      url: `${base}/cpi`,
      tokenurl: `${base}/oauth/token`,
      createdate: client.createdAt,
    },
    sandbox: {
      scopes: client.scopes.map((scope) => fullScope(ctx.xsappname, scope)),
      basicAuth: 'clientid:clientsecret also work as HTTP Basic credentials (with the CSRF protocol)',
    },
  };
}

export async function defaultCpiServiceKey(ctx: SandboxContext): Promise<CpiServiceKey> {
  const { client, secret } = await ensureServiceClient(ctx, {
    metaKey: META_KEY,
    name: 'Cloud Integration API (default key)',
    scopes: [...CPI_SCOPES],
  });
  return keyFor(ctx, client, secret);
}

export async function createCpiServiceKey(
  ctx: SandboxContext,
  input: { name: string; scopes?: string[] | undefined },
): Promise<CpiServiceKey> {
  const { client, secret } = await createClient(ctx, {
    name: input.name,
    scopes: input.scopes ?? [...CPI_SCOPES],
  });
  return keyFor(ctx, client, secret);
}
