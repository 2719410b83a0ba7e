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

/** `tasks.read` -> `<xsappname>.calm-api.tasks.read`, as XSUAA puts authorities into tokens. */
export function fullScope(xsappname: string, scope: string): string {
  return `${xsappname}.calm-api.${scope}`;
}

/** The inverse of fullScope; undefined for scopes of other applications. */
export function shortScope(xsappname: string, scope: string): string | undefined {
  const prefix = `${xsappname}.calm-api.`;
  return scope.startsWith(prefix) ? scope.slice(prefix.length) : undefined;
}
