import Type from 'typebox';
import { NullableTimestamp, Timestamp, Uuid } from '../http/schemas.js';

export const DeliveryState = Type.Union([
  Type.Literal('received'),
  Type.Literal('processed'),
  Type.Literal('ignored'),
  Type.Literal('failed'),
]);

export const DeliveryView = Type.Object(
  {
    id: Uuid,
    receivedAt: Timestamp,
    state: DeliveryState,
    reason: Type.Union([Type.String(), Type.Null()], {
      description: 'Why it was ignored or failed; what processing did.',
    }),
    resourceType: Type.Union([Type.String(), Type.Null()]),
    eventType: Type.Union([Type.String(), Type.Null()]),
    resourceId: Type.Union([Type.String(), Type.Null()]),
    itemKind: Type.Union([Type.String(), Type.Null()]),
    duplicates: Type.Integer({
      description: 'How often the same delivery came again (answered 202, no effect).',
    }),
    selfTest: Type.Boolean(),
    processedAt: NullableTimestamp,
    headers: Type.Record(Type.String(), Type.String()),
    body: Type.String(),
  },
  { $id: 'WebhookDelivery' },
);

export const WebhookStatusView = Type.Object(
  {
    lastEventAt: NullableTimestamp,
    firstEventAt: NullableTimestamp,
    selfTestAt: NullableTimestamp,
    basicAuth: Type.Union([Type.Object({ user: Type.String() }), Type.Null()]),
    state: Type.Union([Type.Literal('waiting_for_first_event'), Type.Literal('receiving')]),
  },
  { $id: 'WebhookStatus' },
);

export const InboxQuery = Type.Object(
  {
    state: Type.Optional(DeliveryState),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    before: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const StatusActionRule = Type.Object(
  {
    statusCode: Type.String({ minLength: 1, maxLength: 60, pattern: '^[A-Z0-9_]+$' }),
    action: Type.Union([Type.Literal('guard'), Type.Literal('promote'), Type.Literal('none')]),
    targetStage: Type.Union([Type.String({ minLength: 1, maxLength: 60 }), Type.Null()]),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const StatusActionsBody = Type.Object(
  { items: Type.Array(StatusActionRule, { maxItems: 50 }) },
  { additionalProperties: false },
);

export const SelfTestResult = Type.Object({
  ok: Type.Boolean(),
  status: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.String(),
});

export const Checklist = Type.Object({
  webhookUrl: Type.String(),
  status: Type.Ref('WebhookStatus'),
  steps: Type.Array(
    Type.Object({
      step: Type.String(),
      what: Type.String(),
      value: Type.Union([Type.String(), Type.Null()]),
      proven: Type.Boolean(),
      provenBy: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export const BasicAuthBody = Type.Object(
  {
    user: Type.Union([Type.String({ minLength: 1, maxLength: 200, pattern: '^[^:]+$' }), Type.Null()]),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, writeOnly: true })),
  },
  { additionalProperties: false },
);

export const AcceptedDelivery = Type.Object({
  id: Uuid,
  outcome: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate')]),
});
