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

function defaultCode(status: number): string {
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
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'TOO_MANY_REQUESTS';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL_SERVER_ERROR' : String(status);
  }
}

export const badRequest = (message: string, code?: string) =>
  new CalmError(400, message, code ? { code } : {});
export const notFound = (message: string) => new CalmError(404, message);
export const forbidden = (message: string) => new CalmError(403, message);
