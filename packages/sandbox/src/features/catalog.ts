/** `FeatureStatus` code list (reference §4.4); names are the Cloud ALM UI labels. */
export const FEATURE_STATUSES = [
  { code: 'CREATED', name: 'In Specification' },
  { code: 'NOT_PLANNED', name: 'Not Planned' },
  { code: 'IN_REALIZATION', name: 'In Implementation' },
  { code: 'IN_TESTING', name: 'In Testing' },
  { code: 'SUCCESSFULLY_TESTED', name: 'Successfully Tested' },
  { code: 'APPROVED_FOR_DEPLOYMENT', name: 'Ready for Production' },
  { code: 'CONFIRMED', name: 'Deployed' },
] as const;

export const FEATURE_STATUS_CODES: readonly string[] = FEATURE_STATUSES.map((status) => status.code);

/** `FeaturePriorities`: numeric codes, as features carry them. */
export const FEATURE_PRIORITIES = [
  { code: 10, name: 'Very High' },
  { code: 20, name: 'High' },
  { code: 30, name: 'Medium' },
  { code: 40, name: 'Low' },
] as const;

export const FEATURE_PRIORITY_CODES: readonly number[] = FEATURE_PRIORITIES.map((priority) => priority.code);

/**
 * The INFERRED "Enabled Status Switches" (reference §4.4): the forward lifecycle, In
 * Specification <-> Not Planned, and one step back from testing to implementation. Replace it
 * with the `featureTransitions` setting.
 */
export const DEFAULT_FEATURE_TRANSITIONS: Record<string, string[]> = {
  CREATED: ['IN_REALIZATION', 'NOT_PLANNED'],
  NOT_PLANNED: ['CREATED'],
  IN_REALIZATION: ['IN_TESTING'],
  IN_TESTING: ['SUCCESSFULLY_TESTED', 'IN_REALIZATION'],
  SUCCESSFULLY_TESTED: ['APPROVED_FOR_DEPLOYMENT'],
  APPROVED_FOR_DEPLOYMENT: ['CONFIRMED'],
  CONFIRMED: [],
};

/**
 * Statuses `POST /Features` accepts in `statusCode` (INFERRED: the reference's create sample sends
 * `CREATED`, the one a new feature starts in on a tenant; any other would skip the transition
 * matrix). The `featureCreateStatuses` setting replaces it.
 */
export const DEFAULT_FEATURE_CREATE_STATUSES: readonly string[] = ['CREATED'];

export function statusName(code: string): string {
  return FEATURE_STATUSES.find((status) => status.code === code)?.name ?? code;
}
