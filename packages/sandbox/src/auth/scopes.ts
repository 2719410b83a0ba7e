/** Every scope of the Cloud ALM API service (reference §1.4), without the `<xsappname>.calm-api.` prefix. */
export const ALL_SCOPES = [
  'projects.read',
  'projects.private.read',
  'projects.protected.read',
  'projects.write',
  'tasks.read',
  'tasks.write',
  'features.read',
  'features.write',
  'documents.read',
  'documents.write',
  'testcases.read',
  'testcases.write',
  'testplans.read',
  'processhierarchy.read',
  'processmanagement.read',
  'processmanagement.write',
  'processmanagement.delete',
  'analytics.read',
  'lib.read',
  'lib.write',
  'landscape.read',
  'bsm.read',
] as const;

export type ScopeName = (typeof ALL_SCOPES)[number];

export function isScopeName(value: string): value is ScopeName {
  return (ALL_SCOPES as readonly string[]).includes(value);
}

/**
 * Scopes of the other emulated services (CTMS, Cloud Integration) start with these prefixes. They
 * are not Cloud ALM API authorities, so their tokens carry them without the `calm-api.` segment.
 */
export const SERVICE_SCOPE_PREFIXES = ['ctms.', 'cpi.', 'eam.'] as const;

/**
 * The eight permissions of the External API Management app (reference external-api-management
 * §1, role tables): access, view and edit of subscriptions, webhooks and mappings, and the
 * console's outbound calls. Granted to technical clients like any other scope.
 */
export const EAM_PERMISSIONS = [
  'eam.access',
  'eam.subscriptions.read',
  'eam.subscriptions.write',
  'eam.webhooks.read',
  'eam.webhooks.write',
  'eam.mappings.read',
  'eam.mappings.write',
  'eam.console.read',
] as const;

function isServiceScope(scope: string): boolean {
  return SERVICE_SCOPE_PREFIXES.some((prefix) => scope.startsWith(prefix));
}

/** `tasks.read` -> `<xsappname>.calm-api.tasks.read`, as XSUAA puts authorities into tokens. */
export function fullScope(xsappname: string, scope: string): string {
  return isServiceScope(scope) ? `${xsappname}.${scope}` : `${xsappname}.calm-api.${scope}`;
}

/** The inverse of fullScope; undefined for scopes of other applications. */
export function shortScope(xsappname: string, scope: string): string | undefined {
  const prefix = `${xsappname}.calm-api.`;
  if (scope.startsWith(prefix)) return scope.slice(prefix.length);
  const service = scope.startsWith(`${xsappname}.`) ? scope.slice(xsappname.length + 1) : undefined;
  return service !== undefined && isServiceScope(service) ? service : undefined;
}
