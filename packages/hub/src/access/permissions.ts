/**
 * The one table of who may do what. Routes declare the action they need (`config.action`);
 * project-scoped actions are checked against the caller's role in the object's project,
 * tenant-scoped ones against the caller's tenant role.
 */

export const PROJECT_ROLES = ['admin', 'release_manager', 'developer', 'approver', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

export const TENANT_ACTIONS = [
  /** Read the tenant's users, global credentials, own tokens. */
  'tenant.read',
  'users.manage',
  'projects.create',
  'credentials.manage_global',
  /** The whole tenant's audit log. */
  'audit.read',
] as const;

export const PROJECT_ACTIONS = [
  'project.read',
  'project.update',
  'members.manage',
  'credentials.read',
  'credentials.manage',
  'credentials.test',
  'integrations.read',
  'integrations.manage',
  /** Start a sync ("Sync User Stories"). */
  'integrations.sync',
  /** The webhook secret key: project admins paste it into Cloud ALM. */
  'integrations.read_secret',
  /** Hub-side fields of a synced user story (notes, labels). */
  'stories.edit',
  /** Attach, change and detach a story's components (transports, CPI artifacts, deliverables). */
  'components.manage',
  /** The project's audit log (admins and release managers). */
  'audit.read_project',
  /** The project's release pipelines and which one a story follows (every member). */
  'pipelines.read',
  /** Create, change, import, delete pipelines; set the default; assign a story's pipeline. */
  'pipelines.manage',
  /** Promote a story into its next stage (developers, release managers, admins; never viewers). */
  'runs.promote',
  /** Decide on an approval task (approvers, release managers, admins; segregation of duties applies). */
  'runs.approve',
  /** Retry, abort and roll back runs. */
  'runs.operate',
] as const;

export type TenantAction = (typeof TENANT_ACTIONS)[number];
export type ProjectAction = (typeof PROJECT_ACTIONS)[number];
export type Action = TenantAction | ProjectAction;
/** `self`: any authenticated caller, about their own things (profile, own tokens). `public`: no token. */
export type RouteAction = Action | 'self' | 'public';

const VIEWER: ProjectAction[] = ['project.read', 'credentials.read', 'integrations.read', 'pipelines.read'];

export const ROLE_ACTIONS: Record<ProjectRole, readonly ProjectAction[]> = {
  viewer: VIEWER,
  developer: [...VIEWER, 'stories.edit', 'components.manage', 'integrations.sync', 'runs.promote'],
  approver: [...VIEWER, 'runs.approve'],
  release_manager: [
    ...VIEWER,
    'credentials.test',
    'stories.edit',
    'components.manage',
    'integrations.sync',
    'audit.read_project',
    'pipelines.manage',
    'runs.promote',
    'runs.approve',
    'runs.operate',
  ],
  admin: PROJECT_ACTIONS,
};

/** Tenant members (not admins) may read the tenant; everything else tenant-wide is for admins. */
export const MEMBER_TENANT_ACTIONS: readonly TenantAction[] = ['tenant.read'];

export function isProjectAction(action: Action): action is ProjectAction {
  return (PROJECT_ACTIONS as readonly string[]).includes(action);
}

export function roleAllows(role: ProjectRole, action: ProjectAction): boolean {
  return ROLE_ACTIONS[role].includes(action);
}
