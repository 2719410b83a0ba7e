import { AppError } from '@calmhub/platform';
import { type Dispatcher, FormData } from 'undici';
import { type AuthContext, authorizationFor, type OutboundResponse, sendOutbound } from '../auth-header.js';
import type { ResolvedCredential } from '../credential.js';
import { RemoteCallError, remoteErrorText } from '../remote-call-error.js';
import type {
  CtmsAction,
  CtmsClient,
  CtmsLog,
  CtmsLogMessage,
  CtmsNode,
  CtmsQueueEntry,
  CtmsTransportRequest,
} from './client.js';

/**
 * The `status` filter of a node's queue takes two-letter codes (SAP API hub, TMS v2:
 * `in ru re su wa er fa de`); a status name is sent as its code, anything else as given.
 */
export const CTMS_STATUS_CODES: Readonly<Record<string, string>> = {
  initial: 'in',
  running: 'ru',
  repeatable: 're',
  succeeded: 'su',
  warning: 'wa',
  error: 'er',
  fatal: 'fa',
  deleted: 'de',
  // Not in SAP's list of filter codes; they follow its pattern (INFERRED).
  skipped: 'sk',
  transient: 'tr',
};

/** What `queue()` asks for when no status is given: every documented status code. */
export const ALL_QUEUE_STATUS_CODES = ['in', 'ru', 're', 'su', 'wa', 'er', 'fa', 'de'] as const;

/**
 * The API base of a CTMS credential: the service key's `uri` + `/v2`. A base that already ends in
 * `/v2`, or Cloud ALM's CTMS pass-through (`…/imp-cdm-transport-management-api/v1`, paths without
 * `/v2`), is used as given.
 */
export function ctmsApiBase(apiUrl: string): string {
  const base = apiUrl.replace(/\/+$/, '');
  return /\/v2$/.test(base) || /\/imp-cdm-transport-management-api\/v1$/.test(base) ? base : `${base}/v2`;
}

type Json = Record<string, unknown>;

/** SAP Cloud Transport Management, REST API v2, over HTTP: a real tenant or the sandbox alike. */
export class HttpCtmsClient implements CtmsClient {
  private readonly base: string;
  /** API calls made (token requests not counted). */
  calls = 0;

  constructor(
    private readonly context: AuthContext,
    private readonly credential: ResolvedCredential,
    apiUrl: string | undefined = credential.settings.apiUrl,
  ) {
    if (!apiUrl)
      throw new AppError(
        'unprocessable',
        `Credential ${credential.id} has no API URL (the CTMS service key's uri)`,
      );
    this.base = ctmsApiBase(apiUrl);
  }

  async listNodes(): Promise<CtmsNode[]> {
    const body = await this.json('GET', '/nodes');
    return list(body.nodes).flatMap((node) => {
      const id = Number(node.id);
      return Number.isFinite(id) ? [{ id, name: String(node.name ?? id) }] : [];
    });
  }

  async findNode(name: string): Promise<CtmsNode | undefined> {
    return (await this.listNodes()).find((node) => node.name === name);
  }

  async queue(nodeId: number, statuses?: string[]): Promise<CtmsTransportRequest[]> {
    const codes =
      statuses && statuses.length > 0
        ? statuses.map((s) => CTMS_STATUS_CODES[s.toLowerCase()] ?? s)
        : ALL_QUEUE_STATUS_CODES;
    const search = new URLSearchParams({ status: [...new Set(codes)].join(',') });
    const body = await this.json('GET', `/nodes/${id(nodeId)}/transportRequests?${search}`);
    return list(body.transportRequests).map(toTransportRequest);
  }

  async importRequests(
    nodeId: number,
    requestIds: number[],
    namedUser: string,
  ): Promise<{ actionId: number }> {
    const body = await this.json('POST', `/nodes/${id(nodeId)}/transportRequests/import`, {
      transportRequests: requestIds,
      namedUser,
    });
    return { actionId: this.number(body.actionId, 'actionId') };
  }

  async resetRequests(nodeId: number, requestIds: number[], namedUser: string): Promise<void> {
    await this.call('POST', `/nodes/${id(nodeId)}/transportRequests/reset`, {
      transportRequests: requestIds,
      namedUser,
    });
  }

  async uploadFile(
    fileName: string,
    content: Buffer,
    namedUser: string,
  ): Promise<{ fileId: number; fileName: string }> {
    const body = await this.json('POST', '/files/upload', () => {
      const form = new FormData();
      form.append('file', new Blob([content]), fileName);
      form.append('namedUser', namedUser);
      return form;
    });
    return {
      fileId: this.number(body.fileId, 'fileId'),
      fileName: typeof body.fileName === 'string' ? body.fileName : fileName,
    };
  }

  async uploadToNode(input: {
    nodeName: string;
    fileId: number;
    description: string;
    namedUser: string;
    contentType?: string;
  }): Promise<{ transportRequestId: number; queueEntries: Array<{ nodeId: number; nodeName: string }> }> {
    const body = await this.json('POST', '/nodes/upload', {
      contentType: input.contentType ?? 'MTA',
      storageType: 'FILE',
      nodeName: input.nodeName,
      description: input.description,
      namedUser: input.namedUser,
      entries: [{ uri: String(input.fileId) }],
    });
    return {
      transportRequestId: this.number(body.transportRequestId, 'transportRequestId'),
      queueEntries: list(body.queueEntries).map((entry) => ({
        nodeId: Number(entry.nodeId),
        nodeName: String(entry.nodeName ?? ''),
      })),
    };
  }

  async action(actionId: number): Promise<CtmsAction> {
    const body = await this.json('GET', `/actions/${id(actionId)}`);
    return {
      id: Number(body.id ?? actionId),
      status: lower(body.status),
      type: optionalString(body.type),
      startedAt: optionalString(body.startedAt),
      endedAt: optionalString(body.endedAt),
      transportRequests: list(body.transportRequests).map((tr) => ({
        id: Number(tr.id),
        status: lower(tr.status),
      })),
    };
  }

  async actionLogs(actionId: number): Promise<CtmsLog[]> {
    const body = await this.json('GET', `/actions/${id(actionId)}/logs`);
    return list(body.logs).map(toLog);
  }

  async requestLogs(nodeId: number, requestId: number): Promise<CtmsLog[]> {
    const body = await this.json('GET', `/nodes/${id(nodeId)}/transportRequests/${id(requestId)}/logs`);
    return list(body.logs).map(toLog);
  }

  private async json(
    method: Dispatcher.HttpMethod,
    path: string,
    payload?: unknown | (() => FormData),
  ): Promise<Json> {
    const response = await this.call(method, path, payload);
    try {
      const value = JSON.parse(response.body.toString('utf8')) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
    } catch {
      // reported below
    }
    throw new RemoteCallError('ctms', `CTMS answered ${method} ${path} with something that is not JSON`, {
      remoteStatus: response.status,
      retryable: false,
    });
  }

  /**
   * One call with a Bearer token; a 401 fetches a new token once and repeats (a 401 is answered
   * before the service acts, so this is safe for writes too). `payload` is JSON, or a function
   * building a multipart form (a fresh one per attempt: a form body is consumed when sent).
   */
  private async call(
    method: Dispatcher.HttpMethod,
    path: string,
    payload?: unknown | (() => FormData),
  ): Promise<OutboundResponse> {
    const send = async (fresh: boolean) => {
      this.calls++;
      const headers: Record<string, string> = {
        authorization: await authorizationFor(this.context, this.credential, fresh),
        accept: 'application/json',
      };
      let body: string | FormData | undefined;
      if (typeof payload === 'function') body = (payload as () => FormData)();
      else if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(payload);
      }
      return sendOutbound(this.context, 'ctms', 'CTMS', {
        method,
        url: `${this.base}${path}`,
        headers,
        body,
      });
    };
    let response = await send(false);
    if (response.status === 401) response = await send(true);
    if (response.status >= 200 && response.status < 300) return response;
    throw RemoteCallError.fromStatus(
      'ctms',
      response.status,
      `CTMS answered ${response.status} to ${method} ${path.split('?')[0]}: ${ctmsErrorText(response.body)}`,
      response.retryAt,
    );
  }

  private number(value: unknown, field: string): number {
    const n = Number(value);
    if (value === null || value === undefined || value === '' || !Number.isFinite(n))
      throw new RemoteCallError('ctms', `CTMS answered without a numeric ${field}`, { retryable: false });
    return n;
  }
}

/** CTMS error text: `{errorType, errorMessage}` (the sandbox's, INFERRED), else the usual shapes. */
export function ctmsErrorText(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as Json;
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON
  }
  return remoteErrorText(text);
}

/** Ids in paths are integers; anything else would address another resource. */
function id(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new AppError('validation_failed', `CTMS ids are non-negative integers, got ${value}`);
  return String(value);
}

function list(value: unknown): Json[] {
  return Array.isArray(value)
    ? value.filter((v): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v))
    : [];
}

function lower(value: unknown): string {
  return typeof value === 'string' ? value.toLowerCase() : 'unknown';
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  const n = Number(value);
  return value === null || value === undefined || value === '' || !Number.isFinite(n) ? undefined : n;
}

function toTransportRequest(tr: Json): CtmsTransportRequest {
  return {
    id: Number(tr.id),
    status: lower(tr.status),
    description: typeof tr.description === 'string' ? tr.description : '',
    position: optionalNumber(tr.position),
    createdAt: optionalString(tr.createdAt),
    queuedAt: optionalString(tr.queuedAt),
    entries: list(tr.entries).map(
      (entry): CtmsQueueEntry => ({
        id: Number(entry.id),
        uri: String(entry.uri ?? ''),
        contentType: optionalString(entry.contentType),
        storageType: optionalString(entry.storageType),
      }),
    ),
  };
}

function toLog(log: Json): CtmsLog {
  return {
    transportRequestId: optionalNumber(log.transportRequestId),
    actionId: optionalNumber(log.actionId),
    status: typeof log.status === 'string' ? log.status.toLowerCase() : undefined,
    messages: list(log.messages).map(
      (m): CtmsLogMessage => ({
        severity: String(m.severity ?? ''),
        message: String(m.message ?? ''),
        createdAt: optionalString(m.createdAt),
      }),
    ),
  };
}
