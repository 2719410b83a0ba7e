import Type, { type Static, type TSchema } from 'typebox';

/** UUIDs only: anything else cannot name a stored object, so it is a 400 before any query. */
export const Uuid = Type.String({ format: 'uuid', description: 'An id (UUID).' });
export const IdParams = Type.Object({ id: Uuid });
export type IdParams = Static<typeof IdParams>;

export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** Names users type: trimmed, no control characters. */
export const Name = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\u0000-\\u001f\\u007f]*\\S[^\\u0000-\\u001f\\u007f]*$',
});
export const Description = Type.String({ maxLength: 4000 });
export const Email = Type.String({ format: 'email', maxLength: 320 });
export const HttpUrl = Type.String({ maxLength: 2048, pattern: '^https?://[^\\s]+$' });

export const ErrorRef = Type.Ref('ErrorResponse');

/** The error answers a route can give, as OpenAPI entries. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorRef]));
}

/** Every authenticated route can answer these. */
export const AUTH_ERRORS = [400, 401, 403, 404] as const;

export function listOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item) });
}
