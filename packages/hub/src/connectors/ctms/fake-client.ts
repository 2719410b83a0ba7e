import { RemoteCallError } from '../remote-call-error.js';
import type {
  CtmsAction,
  CtmsClient,
  CtmsLog,
  CtmsLogMessage,
  CtmsNode,
  CtmsTransportRequest,
} from './client.js';

/** Outcomes the failure switch can make an import end in (as the sandbox's admin switch). */
export type FakeImportFailure = { status: 'error' | 'warning' | 'fatal'; message?: string | undefined };

const IMPORTABLE = new Set(['initial', 'fatal', 'repeatable']);
const RANK: Record<string, number> = { succeeded: 0, warning: 1, error: 2, fatal: 3 };
const SEVERITY: Record<string, string> = { succeeded: 'I', warning: 'W', error: 'E', fatal: 'F' };
/** Filter codes of `?status=` and the names they stand for. */
const CODES: Record<string, string> = {
  in: 'initial',
  ru: 'running',
  re: 'repeatable',
  su: 'succeeded',
  wa: 'warning',
  er: 'error',
  fa: 'fatal',
  de: 'deleted',
  sk: 'skipped',
  tr: 'transient',
};

interface FakeNode extends CtmsNode {
  /** Where a succeeded (or warning) import forwards the request (POST_IMPORT). */
  forwardTo: string[];
}

interface FakeRequest {
  id: number;
  description: string;
  contentType: string;
  createdAt: string;
  entries: Array<{ id: number; uri: string }>;
  failure: FakeImportFailure | undefined;
}

interface QueueEntry {
  requestId: number;
  nodeId: number;
  status: string;
  position: number;
  queuedAt: string;
}

interface FakeActionState {
  id: number;
  type: string;
  nodeId: number;
  status: string;
  startedAt: string;
  endedAt: string | undefined;
  requestIds: number[];
  /** API calls left that see a running import still running. */
  pollsLeft: number;
}

interface LogRow {
  actionId: number;
  actionType: string;
  requestId: number;
  nodeId: number;
  status: string;
  messages: CtmsLogMessage[];
}

/**
 * An in-memory CTMS for unit tests: nodes with forwarding, files, transport requests in queues,
 * asynchronous-looking imports, reset, logs, and a failure switch per request. Held to the same
 * contract suite as the HTTP client. An import runs while `importPolls` further API calls see it
 * (default 0: it has ended by the next call, whichever it is).
 */
export class FakeCtms {
  readonly nodes: FakeNode[] = [];
  readonly requests: FakeRequest[] = [];
  readonly queueEntries: QueueEntry[] = [];
  readonly actions: FakeActionState[] = [];
  readonly logs: LogRow[] = [];
  readonly files: Array<{ id: number; fileName: string; content: Buffer; namedUser: string }> = [];
  /** API calls after an import that still see it `running`. */
  importPolls = 0;
  tokenRequests = 0;
  calls = 0;
  /** Throws this (once) on the next API call, to exercise failures. */
  failNext: RemoteCallError | undefined;
  private nextId = 1000;

  constructor(
    readonly acceptedSecret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds a node; `forwardTo` names the nodes a successful import forwards to. */
  addNode(name: string, options: { forwardTo?: string[] } = {}): CtmsNode {
    const node = { id: this.newId(), name, forwardTo: options.forwardTo ?? [] };
    this.nodes.push(node);
    return { id: node.id, name };
  }

  /** The failure switch: imports of this request end in `failure.status` until it is cleared (null). */
  setImportFailure(requestId: number, failure: FakeImportFailure | null): void {
    const request = this.requests.find((r) => r.id === requestId);
    if (!request) throw new Error(`FakeCtms: no transport request ${requestId}`);
    request.failure = failure ?? undefined;
  }

  /** Status of a request in a node's queue, for assertions. */
  statusIn(nodeName: string, requestId: number): string | undefined {
    const node = this.nodes.find((n) => n.name === nodeName);
    return this.queueEntries.find((e) => e.nodeId === node?.id && e.requestId === requestId)?.status;
  }

  client(clientSecret: string): CtmsClient {
    const call = async () => {
      this.tokenRequests++;
      if (clientSecret !== this.acceptedSecret)
        throw RemoteCallError.fromStatus('token_service', 401, 'Token service answered 401: Bad credentials');
      this.calls++;
      const failure = this.failNext;
      this.failNext = undefined;
      if (failure) throw failure;
      this.advanceImports();
    };
    return {
      listNodes: async () => {
        await call();
        return this.nodes.map(({ id, name }) => ({ id, name }));
      },
      findNode: async (name) => {
        await call();
        const node = this.nodes.find((n) => n.name === name);
        return node ? { id: node.id, name: node.name } : undefined;
      },
      queue: async (nodeId, statuses) => {
        await call();
        this.nodeById(nodeId);
        const wanted = statuses?.length
          ? new Set(statuses.map((s) => CODES[s] ?? s.toLowerCase()))
          : undefined;
        return this.queueEntries
          .filter((e) => e.nodeId === nodeId && (!wanted || wanted.has(e.status)))
          .sort((a, b) => a.position - b.position)
          .map((e) => this.view(e));
      },
      importRequests: async (nodeId, requestIds, namedUser) => {
        await call();
        return { actionId: this.startImport(nodeId, requestIds, namedUser) };
      },
      resetRequests: async (nodeId, requestIds, namedUser) => {
        await call();
        const node = this.nodeById(nodeId);
        const entries = this.entriesIn(node, requestIds, `POST /nodes/${nodeId}/transportRequests/reset`);
        const action = this.newAction('RESET', node.id, requestIds, 'succeeded');
        for (const entry of entries) {
          const status = entry.status === 'initial' ? 'initial' : 'repeatable';
          entry.status = status;
          this.log(action, entry.requestId, node.id, status, [
            `Transport request ${entry.requestId} reset to ${status} in node ${node.name} by ${namedUser}`,
          ]);
        }
      },
      uploadFile: async (fileName, content, namedUser) => {
        await call();
        const file = { id: this.newId(), fileName, content: Buffer.from(content), namedUser };
        this.files.push(file);
        return { fileId: file.id, fileName };
      },
      uploadToNode: async (input) => {
        await call();
        const node = this.nodes.find((n) => n.name === input.nodeName);
        if (!node)
          throw RemoteCallError.fromStatus(
            'ctms',
            404,
            `CTMS answered 404 to POST /nodes/upload: Node '${input.nodeName}' does not exist`,
          );
        if (!this.files.some((f) => f.id === input.fileId))
          throw this.badRequest('POST /nodes/upload', `File with ID ${input.fileId} does not exist`);
        const request: FakeRequest = {
          id: this.newId(),
          description: input.description,
          contentType: input.contentType ?? 'MTA',
          createdAt: new Date(this.now()).toISOString(),
          entries: [{ id: this.newId(), uri: String(input.fileId) }],
          failure: undefined,
        };
        this.requests.push(request);
        const action = this.newAction('UPLOAD', node.id, [request.id], 'succeeded');
        this.enqueue(request.id, node);
        this.log(action, request.id, node.id, 'initial', [
          `Transport request ${request.id} '${input.description}' created in node ${node.name} by ${input.namedUser}`,
        ]);
        return { transportRequestId: request.id, queueEntries: [{ nodeId: node.id, nodeName: node.name }] };
      },
      action: async (actionId) => {
        await call();
        return this.actionView(this.actionById(actionId));
      },
      actionLogs: async (actionId) => {
        await call();
        const action = this.actionById(actionId);
        return action.requestIds.map((requestId): CtmsLog => {
          const rows = this.logs.filter((l) => l.actionId === actionId && l.requestId === requestId);
          return {
            transportRequestId: requestId,
            status: rows.at(-1)?.status ?? action.status,
            messages: rows.flatMap((l) => l.messages.map((m) => ({ ...m }))),
          };
        });
      },
      requestLogs: async (nodeId, requestId) => {
        await call();
        this.nodeById(nodeId);
        const byAction = new Map<number, LogRow[]>();
        for (const row of this.logs.filter((l) => l.nodeId === nodeId && l.requestId === requestId))
          byAction.set(row.actionId, [...(byAction.get(row.actionId) ?? []), row]);
        return [...byAction.entries()].map(([actionId, rows]) => ({
          actionId,
          status: rows.at(-1)?.status,
          messages: rows.flatMap((l) => l.messages.map((m) => ({ ...m }))),
        }));
      },
    };
  }

  /** Running imports end once `importPolls` further calls have seen them running. */
  private advanceImports(): void {
    for (const action of this.actions) {
      if (action.status !== 'running') continue;
      if (action.pollsLeft > 0) action.pollsLeft--;
      else this.finishImport(action);
    }
  }

  private startImport(nodeId: number, requestIds: number[], namedUser: string): number {
    const node = this.nodeById(nodeId);
    const path = `POST /nodes/${nodeId}/transportRequests/import`;
    if (requestIds.length === 0)
      throw this.badRequest(path, "Property 'transportRequests' must list at least one ID");
    const entries = this.entriesIn(node, requestIds, path);
    for (const entry of entries)
      if (!IMPORTABLE.has(entry.status))
        throw this.badRequest(
          path,
          `Transport request ${entry.requestId} cannot be imported in status ${entry.status}; importable are initial, fatal and repeatable`,
        );
    const action = this.newAction('IMPORT', node.id, requestIds, 'running');
    action.pollsLeft = this.importPolls;
    action.endedAt = undefined;
    for (const entry of entries) {
      entry.status = 'running';
      this.log(action, entry.requestId, node.id, 'running', [
        `Import of transport request ${entry.requestId} into node ${node.name} started by ${namedUser}`,
      ]);
    }
    return action.id;
  }

  private finishImport(action: FakeActionState): void {
    const node = this.nodeById(action.nodeId);
    let worst = 'succeeded';
    for (const requestId of action.requestIds) {
      const entry = this.queueEntries.find((e) => e.nodeId === node.id && e.requestId === requestId);
      if (entry?.status !== 'running') continue;
      const request = this.requests.find((r) => r.id === requestId) as FakeRequest;
      const outcome = request.failure?.status ?? 'succeeded';
      const lines: CtmsLogMessage[] = [];
      if (outcome !== 'succeeded')
        lines.push({
          severity: SEVERITY[outcome] ?? 'E',
          message:
            request.failure?.message ??
            `Import of transport request ${requestId} into node ${node.name} failed`,
        });
      lines.push({
        severity: SEVERITY[outcome] ?? 'E',
        message: `Import of transport request ${requestId} into node ${node.name} ended with status ${outcome}`,
      });
      entry.status = outcome;
      this.logs.push({
        actionId: action.id,
        actionType: action.type,
        requestId,
        nodeId: node.id,
        status: outcome,
        messages: lines.map((line) => ({ ...line, createdAt: new Date(this.now()).toISOString() })),
      });
      if (outcome === 'succeeded' || outcome === 'warning')
        for (const target of node.forwardTo) {
          const next = this.nodes.find((n) => n.name === target);
          if (next) this.enqueue(requestId, next);
        }
      if ((RANK[outcome] ?? 0) > (RANK[worst] ?? 0)) worst = outcome;
    }
    action.status = worst;
    action.endedAt = new Date(this.now()).toISOString();
  }

  private enqueue(requestId: number, node: FakeNode): void {
    const existing = this.queueEntries.find((e) => e.nodeId === node.id && e.requestId === requestId);
    const position =
      Math.max(0, ...this.queueEntries.filter((e) => e.nodeId === node.id).map((e) => e.position)) + 1;
    const queuedAt = new Date(this.now()).toISOString();
    if (existing) {
      if (existing.status !== 'deleted') return;
      Object.assign(existing, { status: 'initial', position, queuedAt });
      return;
    }
    this.queueEntries.push({ requestId, nodeId: node.id, status: 'initial', position, queuedAt });
  }

  private view(entry: QueueEntry): CtmsTransportRequest {
    const request = this.requests.find((r) => r.id === entry.requestId) as FakeRequest;
    return {
      id: request.id,
      status: entry.status,
      description: request.description,
      position: entry.position,
      createdAt: request.createdAt,
      queuedAt: entry.queuedAt,
      entries: request.entries.map((e) => ({
        id: e.id,
        uri: e.uri,
        contentType: request.contentType,
        storageType: 'FILE',
      })),
    };
  }

  private actionView(action: FakeActionState): CtmsAction {
    return {
      id: action.id,
      status: action.status,
      type: action.type,
      startedAt: action.startedAt,
      endedAt: action.endedAt,
      transportRequests: action.requestIds.map((id) => ({
        id,
        status:
          this.logs.filter((l) => l.actionId === action.id && l.requestId === id).at(-1)?.status ??
          action.status,
      })),
    };
  }

  private newAction(type: string, nodeId: number, requestIds: number[], status: string): FakeActionState {
    const at = new Date(this.now()).toISOString();
    const action: FakeActionState = {
      id: this.newId(),
      type,
      nodeId,
      status,
      startedAt: at,
      endedAt: at,
      requestIds: [...requestIds],
      pollsLeft: 0,
    };
    this.actions.push(action);
    return action;
  }

  private log(
    action: FakeActionState,
    requestId: number,
    nodeId: number,
    status: string,
    messages: string[],
  ): void {
    const createdAt = new Date(this.now()).toISOString();
    this.logs.push({
      actionId: action.id,
      actionType: action.type,
      requestId,
      nodeId,
      status,
      messages: messages.map((message) => ({ severity: 'I', message, createdAt })),
    });
  }

  private entriesIn(
    node: FakeNode,
    requestIds: number[],
    path = `POST /nodes/${node.id}/transportRequests`,
  ): QueueEntry[] {
    return requestIds.map((id) => {
      const entry = this.queueEntries.find((e) => e.nodeId === node.id && e.requestId === id);
      if (!entry || entry.status === 'deleted')
        throw this.badRequest(
          path,
          `Transport request ${id} is not in the import queue of node ${node.name}`,
        );
      return entry;
    });
  }

  private nodeById(id: number): FakeNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node)
      throw RemoteCallError.fromStatus('ctms', 404, `CTMS answered 404: Node with ID ${id} does not exist`);
    return node;
  }

  private actionById(id: number): FakeActionState {
    const action = this.actions.find((a) => a.id === id);
    if (!action)
      throw RemoteCallError.fromStatus('ctms', 404, `CTMS answered 404: Action with ID ${id} does not exist`);
    return action;
  }

  private badRequest(path: string, message: string): RemoteCallError {
    return RemoteCallError.fromStatus('ctms', 400, `CTMS answered 400 to ${path}: ${message}`);
  }

  private newId(): number {
    return this.nextId++;
  }
}
