import { AppError, isRetryableStatus } from '@calmhub/platform';

export type RemoteSystem =
  | 'cloud_alm'
  | 'token_service'
  | 'ctms'
  | 'cloud_integration'
  | 'servicenow'
  | 'generic';

/**
 * A call to a remote system failed. Classified once, where the call is made: routes answer it as
 * 502/503/504 (it is an AppError), job handlers turn `retryable`/`retryAt` into a retry or a dead job.
 * `message` carries the remote's own words, verbatim, so users see what the remote said.
 */
export class RemoteCallError extends AppError {
  override name = 'RemoteCallError';
  readonly system: RemoteSystem;
  /** HTTP status the remote answered; undefined when it was not reached. */
  readonly remoteStatus: number | undefined;
  readonly retryable: boolean;
  /** Epoch ms the remote asked us to wait until (`Retry-After`). */
  readonly retryAt: number | undefined;

  constructor(
    system: RemoteSystem,
    message: string,
    options: {
      remoteStatus?: number | undefined;
      retryable: boolean;
      retryAt?: number | undefined;
      timedOut?: boolean;
    },
  ) {
    super(
      options.timedOut
        ? 'gateway_timeout'
        : options.remoteStatus === 429 || options.remoteStatus === 503
          ? 'unavailable'
          : 'bad_gateway',
      message,
      {
        details: {
          system,
          ...(options.remoteStatus === undefined ? {} : { remoteStatus: options.remoteStatus }),
        },
        ...(options.retryAt === undefined
          ? {}
          : {
              headers: {
                'retry-after': String(Math.max(1, Math.ceil((options.retryAt - Date.now()) / 1000))),
              },
            }),
      },
    );
    this.system = system;
    this.remoteStatus = options.remoteStatus;
    this.retryable = options.retryable;
    this.retryAt = options.retryAt;
  }

  static fromStatus(
    system: RemoteSystem,
    status: number,
    message: string,
    retryAt?: number,
  ): RemoteCallError {
    return new RemoteCallError(system, message, {
      remoteStatus: status,
      retryable: isRetryableStatus(status),
      retryAt,
    });
  }
}

/** The remote's own error text: OData `{error:{message}}`, REST `{message}`, OAuth `{error_description}`, or the raw body. */
export function remoteErrorText(body: string): string {
  const trimmed = body.trim();
  if (trimmed === '') return '(empty body)';
  try {
    const parsed = JSON.parse(trimmed) as Record<string, unknown>;
    const error = parsed.error;
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string')
      return (error as { message: string }).message;
    if (typeof parsed.error_description === 'string')
      return typeof error === 'string' ? `${error}: ${parsed.error_description}` : parsed.error_description;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return trimmed.length > 1000 ? `${trimmed.slice(0, 1000)}…` : trimmed;
}
