/**
 * SAP Cloud Transport Management service, REST API v2 (reference delivery-apis §3a). Base: the
 * service key's `uri` + `/v2` (or Cloud ALM's pass-through). Every method throws RemoteCallError
 * (system 'ctms') on failure; statuses are returned as the service spells them.
 */
export interface CtmsNode {
  id: number;
  name: string;
}

export interface CtmsQueueEntry {
  id: number;
  uri: string;
  contentType?: string | undefined;
  storageType?: string | undefined;
}

export interface CtmsTransportRequest {
  id: number;
  /** e.g. initial, running, succeeded, warning, error, fatal, repeatable, skipped, deleted. */
  status: string;
  description: string;
  position?: number | undefined;
  createdAt?: string | undefined;
  queuedAt?: string | undefined;
  entries: CtmsQueueEntry[];
}

export interface CtmsAction {
  id: number;
  /** running, initial, succeeded, warning, error, fatal, unknown (lower-cased). */
  status: string;
  type?: string | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  transportRequests: Array<{ id: number; status: string }>;
}

export interface CtmsLogMessage {
  severity: string;
  message: string;
  createdAt?: string | undefined;
}

export interface CtmsLog {
  transportRequestId?: number | undefined;
  actionId?: number | undefined;
  status?: string | undefined;
  messages: CtmsLogMessage[];
}

export interface CtmsClient {
  listNodes(): Promise<CtmsNode[]>;
  /** Undefined when no node has this name. */
  findNode(name: string): Promise<CtmsNode | undefined>;
  /** The node's import queue; `statuses` defaults to every status. */
  queue(nodeId: number, statuses?: string[]): Promise<CtmsTransportRequest[]>;
  importRequests(nodeId: number, requestIds: number[], namedUser: string): Promise<{ actionId: number }>;
  /** An errored request must be reset before it can be imported again. */
  resetRequests(nodeId: number, requestIds: number[], namedUser: string): Promise<void>;
  uploadFile(
    fileName: string,
    content: Buffer,
    namedUser: string,
  ): Promise<{ fileId: number; fileName: string }>;
  /** Creates a transport request with the uploaded file in the node's queue. */
  uploadToNode(input: {
    nodeName: string;
    fileId: number;
    description: string;
    namedUser: string;
    contentType?: string;
  }): Promise<{ transportRequestId: number; queueEntries: Array<{ nodeId: number; nodeName: string }> }>;
  action(actionId: number): Promise<CtmsAction>;
  actionLogs(actionId: number): Promise<CtmsLog[]>;
  requestLogs(nodeId: number, requestId: number): Promise<CtmsLog[]>;
}
