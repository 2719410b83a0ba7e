import type { WriteBackTargetKind } from '../store/tables.js';

/** Technical actions the hub reports to Cloud ALM. A closed set: a new producer adds its kind here. */
export const WRITE_BACK_ACTIONS = [
  'component.attached',
  'component.detached',
  'transport.released',
  'guard.passed',
  'guard.failed',
  'promotion.requested',
  'stage.started',
  'stage.passed',
  'stage.failed',
  'deployment.done',
  'status.changed',
] as const;
export type WriteBackAction = (typeof WRITE_BACK_ACTIONS)[number];

export const WRITE_BACK_TARGETS = ['story_comment', 'feature_line', 'feature_reference'] as const;
export type { WriteBackTargetKind };

/**
 * Actions that also leave a dated line under the feature's description: what changes the
 * feature's delivery (its transports, promotions, stages, deployments). Guards, stage starts and
 * status echoes stay on the story, to keep the feature readable.
 */
export const FEATURE_LEVEL: Record<WriteBackAction, boolean> = {
  'component.attached': true,
  'component.detached': true,
  'transport.released': true,
  'guard.passed': false,
  'guard.failed': false,
  'promotion.requested': true,
  'stage.started': false,
  'stage.passed': true,
  'stage.failed': true,
  'deployment.done': true,
  'status.changed': false,
};

/** The job payload and the key rows of one target share: writes to one Cloud ALM item go in order. */
export interface WriteBackTarget {
  integrationId: string;
  kind: WriteBackTargetKind;
  calmId: string;
}

export const batchKeyOf = (target: WriteBackTarget): string =>
  `${target.integrationId}:${target.kind}:${target.calmId}`;
