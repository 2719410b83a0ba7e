/** Task types (reference §5.3). */
export const TASK_TYPES = [
  'CALMTMPL',
  'CALMTASK',
  'CALMUS',
  'CALMST',
  'CALMREQU',
  'CALMDEF',
  'CALMQGATE',
  'CALMCHKLI',
  'CALMRISK',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

const PROJECT_TASK = ['CIPTKOPEN', 'CIPTKINP', 'CIPTKBLK', 'CIPTKCLOSE', 'CIPTKNO', 'CIPTKREV'];

/** Valid `status` values per type; the first one is where new tasks start. */
export const TASK_STATUSES: Record<TaskType, readonly string[]> = {
  CALMTMPL: PROJECT_TASK,
  CALMTASK: PROJECT_TASK,
  CALMST: PROJECT_TASK,
  CALMCHKLI: PROJECT_TASK,
  CALMUS: ['CIPUSOPEN', 'CIPUSINP', 'CIPUSBLK', 'CIPUSCLOSE', 'CIPUSNO', 'CIPUSREV'],
  CALMREQU: ['CIPREQUOPEN', 'CIPREQUINP', 'CIPREQUBLK', 'CIPREQUCLOSE', 'CIPREQUNO'],
  CALMDEF: ['CIPDFCTOPEN', 'CIPDFCTINP', 'CIPDFCTBLK', 'CIPDFCTDONE'],
  CALMQGATE: ['CIPQGOPEN', 'CIPQGBLK', 'CIPQGDONE', 'CIPQGNR'],
  CALMRISK: ['CIPRIOPEN', 'CIPRIINP', 'CIPRIDONE'],
};

/**
 * Sub-statuses and the status each implies. Requirements follow NB-REQ's mapping; the defect
 * mapping is INFERRED from the code names.
 */
export const SUB_STATUSES: Partial<Record<TaskType, Record<string, string>>> = {
  CALMREQU: {
    CREATED: 'CIPREQUOPEN',
    IN_PLANNING: 'CIPREQUOPEN',
    TO_BE_APPROVED: 'CIPREQUINP',
    IN_REALIZATION: 'CIPREQUINP',
    APPROVED_FOR_DEPLOYMENT: 'CIPREQUINP',
    SUCCESSFULLY_TESTED: 'CIPREQUINP',
    CONFIRMED: 'CIPREQUCLOSE',
    BLOCKED: 'CIPREQUBLK',
    NOT_PLANNED: 'CIPREQUNO',
  },
  CALMDEF: {
    DFC_NEW: 'CIPDFCTOPEN',
    DFC_INP: 'CIPDFCTINP',
    DFC_RETEST_REQ: 'CIPDFCTINP',
    DFC_POSTPONE: 'CIPDFCTBLK',
    DFC_CLOSED: 'CIPDFCTDONE',
  },
};

/** The sub-status a status change lands in when the current one no longer fits. */
export const DEFAULT_SUB_STATUS: Partial<Record<TaskType, Record<string, string>>> = {
  CALMREQU: {
    CIPREQUOPEN: 'CREATED',
    CIPREQUINP: 'IN_REALIZATION',
    CIPREQUBLK: 'BLOCKED',
    CIPREQUCLOSE: 'CONFIRMED',
    CIPREQUNO: 'NOT_PLANNED',
  },
  CALMDEF: {
    CIPDFCTOPEN: 'DFC_NEW',
    CIPDFCTINP: 'DFC_INP',
    CIPDFCTBLK: 'DFC_POSTPONE',
    CIPDFCTDONE: 'DFC_CLOSED',
  },
};

export const APPROVAL_STATES = ['NO_APPR_REQ', 'READY_4_APPR', 'APPROVED', 'REJECTED'] as const;

/** Requirement approval: APPROVED/REJECTED only from READY_4_APPR, and final. */
export const APPROVAL_TRANSITIONS: Record<string, readonly string[]> = {
  '': ['NO_APPR_REQ', 'READY_4_APPR'],
  NO_APPR_REQ: ['READY_4_APPR'],
  READY_4_APPR: ['APPROVED', 'REJECTED', 'NO_APPR_REQ'],
  APPROVED: [],
  REJECTED: [],
};

export const TASK_PRIORITIES = [10, 20, 30, 40] as const;

/** Roles a task can be assigned to; the sandbox has no staffing, so these are fixed. */
export const ROLES: readonly { id: string; name: string }[] = [
  { id: '0b6f1f0c-6e0a-4c47-9a51-6f0f3b1c2d01', name: 'Project Lead' },
  { id: '0b6f1f0c-6e0a-4c47-9a51-6f0f3b1c2d02', name: 'Solution Architect' },
  { id: '0b6f1f0c-6e0a-4c47-9a51-6f0f3b1c2d03', name: 'Developer' },
  { id: '0b6f1f0c-6e0a-4c47-9a51-6f0f3b1c2d04', name: 'Tester' },
];

/** Standard workstreams every tenant has (`isCustom: false`). */
export const STANDARD_WORKSTREAMS: readonly { id: string; name: string }[] = [
  { id: 'WS001', name: 'Project Management' },
  { id: 'WS002', name: 'Solution Design' },
  { id: 'WS003', name: 'Development' },
  { id: 'WS004', name: 'Testing' },
  { id: 'WS005', name: 'Change Management' },
];

export function isTaskType(value: string): value is TaskType {
  return (TASK_TYPES as readonly string[]).includes(value);
}
