/**
 * Classification of outbound call failures, the same for every caller (the sandbox's push
 * engine, the hub's calls to Cloud ALM): what may be retried, and one readable message.
 */

/** 408, 429 and every 5xx are worth retrying; other statuses will not change by asking again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export type FailureKind =
  /** The call did not finish in time (our timeout, or undici's connect/headers/body timeouts). */
  | 'timeout'
  /** The caller's own signal aborted it (shutdown, cancellation): not done, so worth doing again later. */
  | 'aborted'
  /** Connection refused/reset, DNS, TLS handshake, socket closed: the remote was not reached or hung up. */
  | 'network'
  /** The request itself is wrong (invalid URL, header or argument): asking again will not help. */
  | 'invalid-request';

export interface ClassifiedFailure {
  kind: FailureKind;
  retryable: boolean;
  /** Code of the error or its cause (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`, ...), if any. */
  code: string | undefined;
  message: string;
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ABORT_ERR_TIMEOUT',
]);

const INVALID_CODES = new Set([
  'ERR_INVALID_URL',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_UNESCAPED_CHARACTERS',
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
]);

/** The error and its causes, outermost first (bounded, cycles stop). */
function chain(error: unknown): unknown[] {
  const result: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && result.length < 5 && !result.includes(current)) {
    result.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return result;
}

function field(error: unknown, name: 'code' | 'name' | 'message'): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Classifies an error thrown by `fetch`, undici's `request`, `AbortSignal.timeout()` or a socket.
 * Pass `callerSignal` so an abort by the caller is told apart from a timeout. Only invalid
 * requests are final (`retryable: false`); timeouts, aborted calls, network errors and unknown
 * errors may succeed later.
 */
export function classifyFailure(error: unknown, callerSignal?: AbortSignal): ClassifiedFailure {
  const errors = chain(error);
  const code = errors.map((e) => field(e, 'code')).find((c) => c !== undefined);
  const names = errors.map((e) => field(e, 'name'));
  const codes = errors.map((e) => field(e, 'code'));
  const message = errorMessage(error);
  let kind: FailureKind;
  if (callerSignal?.aborted && !names.includes('TimeoutError')) kind = 'aborted';
  else if (names.includes('TimeoutError') || codes.some((c) => c !== undefined && TIMEOUT_CODES.has(c)))
    kind = 'timeout';
  else if (
    codes.some((c) => c !== undefined && INVALID_CODES.has(c)) ||
    (error instanceof TypeError && /invalid url|invalid header|invalid argument/i.test(message))
  )
    kind = 'invalid-request';
  else if (names.includes('AbortError') && callerSignal === undefined) kind = 'aborted';
  else kind = 'network';
  return { kind, retryable: kind !== 'invalid-request', code, message };
}

/**
 * One line for an outbound failure: `fetch failed: connect ECONNREFUSED 127.0.0.1:1`. Walks the
 * cause chain (fetch wraps the socket error), spells out AggregateErrors (a refused dual-stack
 * connect has an empty message), and prefixes a code that the message does not already contain.
 */
export function errorMessage(error: unknown): string {
  const parts: string[] = [];
  for (const current of chain(error)) {
    let text = field(current, 'message') ?? '';
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const listed = [...new Set(inner.map((e) => field(e, 'message') ?? String(e)))].join('; ');
      text = text ? `${text} (${listed})` : listed;
    }
    const code = field(current, 'code');
    if (code && !text.includes(code)) text = text ? `${code} ${text}` : code;
    if (!text && !(current instanceof Error)) text = String(current);
    if (text && !parts.some((part) => part.includes(text))) parts.push(text);
  }
  return parts.join(': ') || 'unknown error';
}
