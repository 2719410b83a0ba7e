import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { SandboxContext } from '../app/context.js';
import { CalmError } from '../shared/errors.js';
import { getClient, type TechnicalClient } from './clients.js';
import { fullScope, shortScope } from './scopes.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
  jti: string;
}

/** Who is calling a Cloud ALM API: the technical client behind a verified token. */
export interface Principal {
  clientId: string;
  /** Short scope names from the token. */
  scopes: Set<string>;
  projectIds: string[] | null;
}

export async function issueToken(ctx: SandboxContext, client: TechnicalClient): Promise<TokenResponse> {
  const nowMs = ctx.now();
  const iat = Math.floor(nowMs / 1000);
  const lifetime = ctx.settings.tokenLifetimeSeconds;
  const scopes = client.scopes.map((scope) => fullScope(ctx.xsappname, scope));
  const jti = randomUUID().replaceAll('-', '');
  const base = ctx.publicUrl();
  // Claims follow XSUAA's client-credentials tokens so clients that decode them see familiar fields.
  const accessToken = await new SignJWT({
    ext_attr: { enhancer: 'XSUAA', subaccountid: 'calm-sandbox', zdn: 'calm-sandbox' },
    authorities: scopes,
    scope: scopes,
    client_id: client.clientId,
    cid: client.clientId,
    azp: client.clientId,
    grant_type: 'client_credentials',
    zid: 'calm-sandbox',
    // Millisecond issue time: lets the admin API expire every token issued before an instant.
    sandbox_iat_ms: nowMs,
  })
    .setProtectedHeader({ alg: 'RS256', kid: ctx.keys.kid, jku: `${base}/oauth/token_keys`, typ: 'JWT' })
    .setJti(jti)
    .setSubject(client.clientId)
    .setIssuer(`${base}/oauth/token`)
    .setAudience([client.clientId, ctx.xsappname])
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .sign(ctx.keys.privateKey);
  return {
    access_token: accessToken,
    token_type: 'bearer',
    expires_in: lifetime,
    scope: scopes.join(' '),
    jti,
  };
}

function unauthorized(description: string): CalmError {
  return new CalmError(401, description, {
    code: 'UNAUTHORIZED',
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` },
  });
}

/** Verifies `Authorization: Bearer <jwt>`; throws a 401 CalmError for anything but a valid, live token. */
export async function authenticate(
  ctx: SandboxContext,
  authorization: string | undefined,
): Promise<Principal> {
  if (!authorization) {
    throw new CalmError(401, 'Full authentication is required to access this resource', {
      headers: { 'www-authenticate': 'Bearer realm="calm-sandbox"' },
    });
  }
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match?.[1]) throw unauthorized('Authorization header must be a Bearer token');
  let payload: Record<string, unknown>;
  try {
    const result = await jwtVerify(match[1], ctx.keys.publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(ctx.now()),
      clockTolerance: 0,
    });
    payload = result.payload as Record<string, unknown>;
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw unauthorized('The access token has expired');
    throw unauthorized('The access token is invalid');
  }
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  if (!clientId) throw unauthorized('The access token is invalid');
  const issuedMs =
    typeof payload.sandbox_iat_ms === 'number' ? payload.sandbox_iat_ms : Number(payload.iat ?? 0) * 1000;
  const notBefore = Math.max(ctx.tokenNotBefore.get('*') ?? 0, ctx.tokenNotBefore.get(clientId) ?? 0);
  if (issuedMs < notBefore) throw unauthorized('The access token has expired');
  const client = await getClient(ctx.db, clientId);
  if (!client) throw unauthorized('The client of this access token no longer exists');
  const rawScopes = Array.isArray(payload.scope) ? payload.scope : [];
  const scopes = new Set<string>();
  for (const scope of rawScopes) {
    if (typeof scope !== 'string') continue;
    const short = shortScope(ctx.xsappname, scope);
    if (short) scopes.add(short);
  }
  return { clientId, scopes, projectIds: client.projectIds };
}

export function requireScope(principal: Principal, scope: string): void {
  if (!principal.scopes.has(scope)) {
    throw new CalmError(403, `Insufficient scope: this operation requires calm-api.${scope}`, {
      code: 'FORBIDDEN',
    });
  }
}

export function canSeeProject(principal: Principal, projectId: string): boolean {
  return principal.projectIds === null || principal.projectIds.includes(projectId);
}
