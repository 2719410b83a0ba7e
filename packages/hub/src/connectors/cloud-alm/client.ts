/**
 * The hub's view of SAP Cloud ALM: only what the hub uses, in the shapes of the documented public
 * APIs. One HTTP implementation (a real tenant or the sandbox) and one in-memory fake, both held to
 * the same contract suite (`client.contract.ts`).
 */

export interface CalmProject {
  id: string;
  name: string;
  /** `O` open, `C` closed, as Cloud ALM answers. */
  status?: string | undefined;
}

/** A feature as the Features OData service answers it (`raw` keeps every field). */
export interface CalmFeature {
  uuid: string;
  displayId: string | undefined;
  title: string;
  description: string | undefined;
  statusCode: string;
  priorityCode: number | undefined;
  responsibleId: string | undefined;
  projectId: string | undefined;
  /** `modifiedAt`, epoch ms. */
  modifiedAt: number;
  raw: Record<string, unknown>;
}

/** A task (here: a user story, type CALMUS) as the Tasks REST service answers it. */
export interface CalmTask {
  id: string;
  displayId: string | undefined;
  title: string;
  description: string | undefined;
  type: string;
  status: string;
  subStatus: string | undefined;
  priorityId: number | undefined;
  assigneeId: string | undefined;
  projectId: string | undefined;
  /** `lastChangedTimestamp`, epoch ms. */
  modifiedAt: number;
  raw: Record<string, unknown>;
}

export interface CalmTaskAssignment {
  featureUuid: string;
  taskId: string;
}

export interface CalmTransportReference {
  featureUuid: string;
  transportUuid: string;
}

export interface CalmTransport {
  uuid: string;
  transportId: string;
  description: string | undefined;
  owner: string | undefined;
  status: string;
  sourceSystem: string | undefined;
  targetSystem: string | undefined;
  modifiedAt: number;
  raw: Record<string, unknown>;
}

export interface CalmCode {
  code: string;
  name: string;
}

/** A comment of a task (`Comment` of the Tasks service). */
export interface CalmComment {
  id: string;
  taskId: string;
  text: string;
  /** `createdTimestamp`, epoch ms (0 when absent). */
  createdAt: number;
}

/** An external reference of a feature (`ExternalReferences`: the item's id in another system). */
export interface CalmExternalReference {
  id: string;
  parentUuid: string;
  name: string | undefined;
  url: string | undefined;
}

/**
 * A link between two tasks, as `GET /calm-tasks/v1/tasks/{id}/relations` lists it. The shape is
 * INFERRED (the public specs name the resource, not its fields), so it is read tolerantly.
 */
export interface CalmTaskRelation {
  id: string;
  sourceTaskId: string;
  targetTaskId: string;
  /**
   * Upper case: `DEPENDS_ON` (the source can only be done after the target), `BLOCKS` (the source
   * holds the target up), `RELATES_TO`, or whatever else Cloud ALM answers.
   */
  type: string;
}

/**
 * Where the next page starts: OData `@nextLink` or `$skip`, REST `offset`. Opaque to callers, and
 * plain JSON, so a sync can store it and resume after a crash or a `Retry-After`.
 */
export type PageCursor = string;

export interface Page<T> {
  items: T[];
  /** null: this was the last page. */
  next: PageCursor | null;
}

export interface PageQuery {
  pageSize: number;
}

export interface FeatureQuery extends PageQuery {
  projectId: string;
  /** Only features whose `modifiedAt` is after this (epoch ms). */
  modifiedAfter?: number | undefined;
  /** Only `uuid`s (`$select`), for the id sweep. */
  idsOnly?: boolean | undefined;
}

export interface TaskQuery extends PageQuery {
  projectId: string;
  type: string;
  /** Only tasks whose `lastChangedTimestamp` is after this (epoch ms). */
  changedAfter?: number | undefined;
}

/** Links of one project, or of some features or tasks (then at most ~50 ids per query). */
export interface LinkQuery extends PageQuery {
  projectId?: string | undefined;
  featureUuids?: string[] | undefined;
  taskIds?: string[] | undefined;
}

export interface TransportQuery extends PageQuery {
  modifiedAfter?: number | undefined;
  uuids?: string[] | undefined;
}

export interface CloudAlmClient {
  /** Gets an access token: proves the credential and the token URL. */
  authenticate(): Promise<void>;
  /** `GET /calm-projects/v1/projects`. Empty when the technical client sees no project. */
  listProjects(): Promise<CalmProject[]>;
  /** `GET /calm-projects/v1/projects/{id}`; undefined when it does not exist or is not visible. */
  getProject(id: string): Promise<CalmProject | undefined>;

  /** `GET /calm-features/v1/Features` one page. */
  features(query: FeatureQuery, cursor: PageCursor | null): Promise<Page<CalmFeature>>;
  /** `GET /calm-tasks/v1/tasks` one page (`offset`/`limit`, the last page is short). */
  tasks(query: TaskQuery, cursor: PageCursor | null): Promise<Page<CalmTask>>;
  /** `GET /calm-features/v1/TaskAssignments` one page. */
  taskAssignments(query: LinkQuery, cursor: PageCursor | null): Promise<Page<CalmTaskAssignment>>;
  /** `GET /calm-features/v1/TransportReferences` one page. */
  transportReferences(query: LinkQuery, cursor: PageCursor | null): Promise<Page<CalmTransportReference>>;
  /** `GET /calm-features/v1/Transports` one page. */
  transports(query: TransportQuery, cursor: PageCursor | null): Promise<Page<CalmTransport>>;
  /** `GET /calm-features/v1/FeatureStatus` or `/FeaturePriorities`. */
  codeList(name: 'FeatureStatus' | 'FeaturePriorities'): Promise<CalmCode[]>;
  /** One feature; undefined when it is gone. */
  getFeature(uuid: string): Promise<CalmFeature | undefined>;
  /** One task; undefined when it is gone. */
  getTask(id: string): Promise<CalmTask | undefined>;
  /**
   * `GET /calm-tasks/v1/tasks/{id}/relations`: every relation the task is the source or the target
   * of. An unknown task is a 404 (`RemoteCallError`).
   */
  listTaskRelations(taskId: string): Promise<CalmTaskRelation[]>;

  // Write-back. Writes are never retried inside the call: a caller whose write's outcome is
  // unknown (a retryable error) reads before writing again.
  /** `GET /calm-tasks/v1/tasks/{id}/comments`, oldest first. */
  listComments(taskId: string): Promise<CalmComment[]>;
  /** `POST /calm-tasks/v1/tasks/{id}/comments` `{text}`. */
  postComment(taskId: string, text: string): Promise<CalmComment>;
  /** `PATCH /calm-features/v1/Features/{uuid}` `{description}` (the whole HTML; 200 or 204). */
  updateFeatureDescription(uuid: string, html: string): Promise<void>;
  /** PATCHes the feature's status; Cloud ALM's status rules may refuse it (a 4xx RemoteCallError). */
  updateFeatureStatus(uuid: string, statusCode: string): Promise<void>;
  /** `GET /calm-features/v1/ExternalReferences?$filter=parentUuid eq <guid>`. */
  listExternalReferences(featureUuid: string): Promise<CalmExternalReference[]>;
  /** `POST /calm-features/v1/ExternalReferences` `{id, parentUuid, name, url}`. */
  createExternalReference(reference: CalmExternalReference): Promise<CalmExternalReference>;
}
