import { STATUS_CODES } from 'node:http';

/**
 * An error a Cloud ALM API answers with. Each API family renders it in its own shape
 * (`{ message }` for the REST services, `{ error: { code, message } }` for OData), so services
 * throw this and never format bodies themselves.
 */
export class CalmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    options: { code?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'CalmError';
    this.status = status;
    this.code = options.code ?? defaultCode(status);
    this.headers = options.headers ?? {};
  }
}

/**
 * The OData `error.code` for a status when the thrower names none: a readable constant, never the
 * bare number (clients branch on it). Statuses without an entry take Node's reason phrase
 * (`413 Payload Too Large` -> `PAYLOAD_TOO_LARGE`).
 */
export function defaultCode(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'TOO_MANY_REQUESTS';
    case 500:
      return 'INTERNAL_SERVER_ERROR';
    case 503:
      return 'SERVICE_UNAVAILABLE';
  }
  const phrase = STATUS_CODES[status];
  if (phrase)
    return phrase
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_|_$/g, '');
  return status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
}

export const badRequest = (message: string, code?: string) =>
  new CalmError(400, message, code ? { code } : {});
export const notFound = (message: string) => new CalmError(404, message);
export const forbidden = (message: string) => new CalmError(403, message);
