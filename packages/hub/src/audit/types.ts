import type { TenantRole } from '../store/tables.js';

/**
 * Every kind of audit entry, a closed union: a new state-changing action adds its kind here.
 * The webhook, transition, action, promotion and write-back kinds are reserved for the inbox,
 * pipeline and write-back domains.
 */
export const AUDIT_KINDS = [
  'credential.created',
  'credential.updated',
  'credential.rotated',
  'credential.tested',
  'credential.deleted',
  'integration.created',
  'integration.updated',
  'integration.deleted',
  'integration.webhook_key_rotated',
  'project.created',
  'project.updated',
  'member.set',
  'member.removed',
  'user.created',
  'user.updated',
  'token.created',
  'token.revoked',
  'sync.requested',
  'sync.finished',
  'story.updated',
  'component.attached',
  'component.updated',
  'component.detached',
  'webhook.received',
  'webhook.processed',
  'webhook.ignored',
  'transition.recorded',
  'action.guard_passed',
  'action.guard_failed',
  'promotion.requested',
  'writeback.written',
  'writeback.failed',
  'promotion.cancelled',
  'run.started',
  'run.task_waiting',
  'run.task_passed',
  'run.task_failed',
  'run.approved',
  'run.rejected',
  'run.retried',
  'run.passed',
  'run.failed',
  'run.aborted',
  'run.rollback_requested',
  'run.rolled_back',
  'run.rollback_failed',
  'run.feature_status_set',
  'run.feature_status_refused',
  'pipeline.created',
  'pipeline.updated',
  'pipeline.default_changed',
  'pipeline.deleted',
  'story.pipeline_assigned',
  'story.dependency_added',
  'story.dependency_removed',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export const AUDIT_ACTOR_KINDS = ['user', 'integration', 'system'] as const;
export type AuditActorKind = (typeof AUDIT_ACTOR_KINDS)[number];

/**
 * Who acted. `label` is what a reader recognises: the user's e-mail, the integration's name, or
 * the system part (`schedule`, `operator`). `tenantRole` lets `recordAudit` work out a user's role.
 */
export type AuditActor =
  | { kind: 'user'; id: string; label: string; tenantRole: TenantRole }
  | { kind: 'integration'; id: string; label: string }
  | { kind: 'system'; id: string; label: string };

/** Who acted, and the HTTP request that asked (null for jobs and schedules). */
export interface AuditContext {
  actor: AuditActor;
  requestId: string | null;
}

/** The object acted on: `kind` is a noun (`credential`, `integration`, `story`...). */
export interface AuditObject {
  kind: string;
  id: string;
  label?: string | null | undefined;
}

/** One audit entry to write. Views only (masked), never a secret, a token or a webhook key. */
export interface AuditEntry extends AuditContext {
  tenantId: string;
  /** Epoch ms, from the injected clock. */
  occurredAt: number;
  /** The project the object belongs to; null for tenant-wide objects (users, global credentials). */
  projectId: string | null;
  kind: AuditKind;
  object: AuditObject;
  before?: unknown;
  after?: unknown;
  /**
   * The actor's role at the time: `tenant_admin`, a project role, or null. Left out, it is looked
   * up for users (tenant admins, else their membership in `projectId`) and null for others.
   */
  role?: string | null | undefined;
}

export interface AuditEntryView {
  id: number;
  occurredAt: string;
  projectId: string | null;
  actor: { kind: AuditActorKind; id: string; label: string };
  role: string | null;
  kind: AuditKind;
  object: { kind: string; id: string; label: string | null };
  before: unknown;
  after: unknown;
  requestId: string | null;
}
