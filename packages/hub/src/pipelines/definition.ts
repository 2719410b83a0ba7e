import Type, { type Static } from 'typebox';

/**
 * A release pipeline as users write it (API body and YAML file alike). Pure: no I/O here.
 * Targets name credentials by name, so one file moves between hubs; they are resolved when a
 * task runs (and checked when the definition is saved).
 */

/** Stable stage keys: what Cloud ALM's status map targets (`test`, `production`) and URLs use. */
export const StageKey = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,39}$',
  description: 'Stable key of the stage.',
});

const TaskName = Type.String({ minLength: 1, maxLength: 200 });

export const CtmsTarget = Type.Object(
  {
    credential: Type.String({ minLength: 1, maxLength: 200, description: 'Name of a CTMS credential.' }),
    node: Type.String({ minLength: 1, maxLength: 200, description: 'Transport node name, e.g. QAS.' }),
  },
  { additionalProperties: false },
);

export const CloudIntegrationTarget = Type.Object(
  {
    credential: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Name of a Cloud Integration credential (the tenant is its API URL).',
    }),
  },
  { additionalProperties: false },
);

export const StageTargets = Type.Object(
  {
    ctms: Type.Optional(CtmsTarget),
    cloudIntegration: Type.Optional(CloudIntegrationTarget),
  },
  { additionalProperties: false },
);

export const ApprovalTask = Type.Object(
  {
    type: Type.Literal('approval'),
    name: TaskName,
    /** Approvers by e-mail. */
    users: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { maxItems: 100 })),
    /** Approvers by project role (admin, release_manager, developer, approver). */
    roles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 10 })),
    /** N of M: approvals needed. */
    required: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
    message: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const VALIDATION_CHECKS = ['transports_released', 'dependencies', 'object_overlap'] as const;
export type ValidationCheck = (typeof VALIDATION_CHECKS)[number];

export const ValidationTask = Type.Object(
  {
    type: Type.Literal('validation'),
    name: TaskName,
    checks: Type.Optional(
      Type.Array(Type.Union(VALIDATION_CHECKS.map((c) => Type.Literal(c))), {
        minItems: 1,
        uniqueItems: true,
      }),
    ),
    /** A failed check is reported, and the run goes on. */
    continueOnFailure: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const DEPLOYMENT_KINDS = ['ctms_import', 'mta_upload', 'cpi_deploy'] as const;
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

export const DeploymentTask = Type.Object(
  {
    type: Type.Literal('deployment'),
    name: TaskName,
    /**
     * ctms_import: the story's transports from the stage's CTMS node queue; mta_upload: the story's
     * MTA archives uploaded to the node and imported; cpi_deploy: the story's Cloud Integration
     * artifacts from the source (first stage's) tenant to the stage's tenant.
     */
    kind: Type.Union(DEPLOYMENT_KINDS.map((k) => Type.Literal(k))),
    /** cpi_deploy: back up the target's current version first, so a failure can be rolled back. */
    backup: Type.Optional(Type.Boolean({ default: true })),
    /** cpi_deploy: roll back to the backup by itself when the deployment fails. */
    rollbackOnFailure: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const PipelineTask = Type.Union([ApprovalTask, ValidationTask, DeploymentTask]);

export const StageTasks = Type.Object(
  {
    pre: Type.Optional(Type.Array(PipelineTask, { maxItems: 50 })),
    deploy: Type.Optional(Type.Array(PipelineTask, { maxItems: 50 })),
    post: Type.Optional(Type.Array(PipelineTask, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

export const PipelineStage = Type.Object(
  {
    key: StageKey,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    targets: Type.Optional(StageTargets),
    tasks: Type.Optional(StageTasks),
    /**
     * Off unless set: when the stage passes, the story's Cloud ALM feature gets this status code
     * (e.g. CIPDEPLOYED), applied through the Features API within its status rules.
     */
    featureStatusOnPass: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
  },
  { additionalProperties: false },
);

export const PipelineDefinition = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    /** Ordered; the first is where development happens (no tasks run on entering it). */
    stages: Type.Array(PipelineStage, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);

export type CtmsTarget = Static<typeof CtmsTarget>;
export type CloudIntegrationTarget = Static<typeof CloudIntegrationTarget>;
export type ApprovalTask = Static<typeof ApprovalTask>;
export type ValidationTask = Static<typeof ValidationTask>;
export type DeploymentTask = Static<typeof DeploymentTask>;
export type PipelineTask = Static<typeof PipelineTask>;
export type PipelineStage = Static<typeof PipelineStage>;
export type PipelineDefinition = Static<typeof PipelineDefinition>;

export const TASK_PHASES = ['pre', 'deploy', 'post'] as const;
export type TaskPhase = (typeof TASK_PHASES)[number];

/** A stage's tasks in the order they run, each with its phase and index (a stable task key). */
export function orderedTasks(
  stage: PipelineStage,
): Array<{ key: string; phase: TaskPhase; task: PipelineTask }> {
  return TASK_PHASES.flatMap((phase) =>
    (stage.tasks?.[phase] ?? []).map((task, index) => ({ key: `${phase}.${index}`, phase, task })),
  );
}
