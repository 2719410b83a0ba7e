import { randomUUID } from 'node:crypto';
import { RemoteCallError } from '../remote-call-error.js';
import type {
  CalmCode,
  CalmComment,
  CalmExternalReference,
  CalmFeature,
  CalmProject,
  CalmTask,
  CalmTaskAssignment,
  CalmTaskRelation,
  CalmTransport,
  CalmTransportReference,
  CloudAlmClient,
  Page,
  PageCursor,
} from './client.js';

/** The fake's write operations, for `loseResponse`. */
export type FakeWrite = 'postComment' | 'updateFeatureDescription' | 'createExternalReference';

/**
 * An in-memory Cloud ALM for unit tests: projects, features, user stories, transports, their
 * links and code lists, and the client secret it accepts. Held to the same contract suite as the
 * HTTP client. `calls` counts API calls as a tenant would see them.
 */
export class FakeCloudAlm {
  readonly projects: CalmProject[] = [];
  readonly features: CalmFeature[] = [];
  readonly tasks: CalmTask[] = [];
  readonly assignments: CalmTaskAssignment[] = [];
  readonly transportRefs: CalmTransportReference[] = [];
  readonly transports: CalmTransport[] = [];
  readonly statusCodes: CalmCode[] = [
    { code: 'CREATED', name: 'In Specification' },
    { code: 'IN_REALIZATION', name: 'In Implementation' },
    { code: 'IN_TESTING', name: 'In Testing' },
  ];
  readonly priorityCodes: CalmCode[] = [{ code: '30', name: 'Medium' }];
  /** Project ids the technical client may see; undefined: all. */
  visibleProjectIds: Set<string> | undefined;
  tokenRequests = 0;
  calls = 0;
  /** Throws this (once) on the next API call, to exercise failures. */
  failNext: RemoteCallError | undefined;
  /** Comments of tasks, in the order they were posted. */
  readonly comments: CalmComment[] = [];
  readonly externalReferences: CalmExternalReference[] = [];
  /** Task relations (`/tasks/{id}/relations`). */
  readonly relations: CalmTaskRelation[] = [];
  /** Writes whose answer is lost, per operation: the write is applied, then the call fails retryably. */
  private readonly lostAnswers = new Map<FakeWrite, number>();

  /** The next `times` writes of `operation` take effect and then fail as if the connection dropped. */
  loseResponse(operation: FakeWrite, times = 1): void {
    this.lostAnswers.set(operation, (this.lostAnswers.get(operation) ?? 0) + times);
  }

  /** Comments of one task. */
  commentsOf(taskId: string): CalmComment[] {
    return this.comments.filter((c) => c.taskId === taskId);
  }

  private answerLost(operation: FakeWrite): void {
    const left = this.lostAnswers.get(operation) ?? 0;
    if (left <= 0) return;
    this.lostAnswers.set(operation, left - 1);
    throw new RemoteCallError('cloud_alm', `Cloud ALM unreachable: connection reset (${operation})`, {
      retryable: true,
    });
  }

  constructor(readonly acceptedSecret: string) {}

  addProject(project: CalmProject): CalmProject {
    this.projects.push(project);
    return project;
  }

  /** Relates two tasks: `DEPENDS_ON` means the source can only be done after the target. */
  addRelation(sourceTaskId: string, targetTaskId: string, type = 'DEPENDS_ON'): CalmTaskRelation {
    const relation = { id: randomUUID(), sourceTaskId, targetTaskId, type };
    this.relations.push(relation);
    return relation;
  }

  removeRelation(id: string): void {
    const index = this.relations.findIndex((r) => r.id === id);
    if (index >= 0) this.relations.splice(index, 1);
  }

  client(clientSecret: string): CloudAlmClient {
    const authenticate = async () => {
      this.tokenRequests++;
      if (clientSecret !== this.acceptedSecret)
        throw RemoteCallError.fromStatus('token_service', 401, 'Token service answered 401: Bad credentials');
    };
    const call = async () => {
      await authenticate();
      this.calls++;
      const failure = this.failNext;
      this.failNext = undefined;
      if (failure) throw failure;
    };
    const visible = (projectId: string | undefined) =>
      !this.visibleProjectIds || (projectId !== undefined && this.visibleProjectIds.has(projectId));
    const page = async <T>(all: T[], pageSize: number, cursor: PageCursor | null): Promise<Page<T>> => {
      await call();
      const skip = cursor === null ? 0 : Number(cursor);
      const items = all.slice(skip, skip + pageSize);
      return { items, next: skip + items.length < all.length ? String(skip + items.length) : null };
    };
    const taskOrThrow = (taskId: string) => {
      const task = this.tasks.find((t) => t.id === taskId && visible(t.projectId));
      if (!task) throw RemoteCallError.fromStatus('cloud_alm', 404, `Task with id ${taskId} not found`);
      return task;
    };
    const featureOrThrow = (uuid: string) => {
      const feature = this.features.find((f) => f.uuid === uuid && visible(f.projectId));
      if (!feature) throw RemoteCallError.fromStatus('cloud_alm', 404, `Feature with key ${uuid} not found`);
      return feature;
    };
    const featureIdsOf = (projectId: string) =>
      new Set(this.features.filter((f) => f.projectId === projectId).map((f) => f.uuid));
    return {
      authenticate,
      listProjects: async () => {
        await call();
        return this.projects.filter((p) => visible(p.id)).map((p) => ({ ...p }));
      },
      getProject: async (id) => {
        await call();
        const project = this.projects.find((p) => p.id === id && visible(p.id));
        return project ? { ...project } : undefined;
      },
      features: (query, cursor) =>
        page(
          this.features.filter(
            (f) =>
              f.projectId === query.projectId &&
              visible(f.projectId) &&
              (query.modifiedAfter === undefined || f.modifiedAt > query.modifiedAfter),
          ),
          query.pageSize,
          cursor,
        ),
      tasks: (query, cursor) =>
        page(
          this.tasks.filter(
            (t) =>
              t.projectId === query.projectId &&
              t.type === query.type &&
              visible(t.projectId) &&
              (query.changedAfter === undefined || t.modifiedAt > query.changedAfter),
          ),
          query.pageSize,
          cursor,
        ),
      taskAssignments: (query, cursor) => {
        const inProject = query.projectId ? featureIdsOf(query.projectId) : undefined;
        return page(
          this.assignments.filter(
            (a) =>
              (!inProject || inProject.has(a.featureUuid)) &&
              (!query.featureUuids || query.featureUuids.includes(a.featureUuid)) &&
              (!query.taskIds || query.taskIds.includes(a.taskId)),
          ),
          query.pageSize,
          cursor,
        );
      },
      transportReferences: (query, cursor) =>
        page(
          this.transportRefs.filter((r) => !query.featureUuids || query.featureUuids.includes(r.featureUuid)),
          query.pageSize,
          cursor,
        ),
      transports: (query, cursor) =>
        page(
          this.transports.filter(
            (t) =>
              (query.modifiedAfter === undefined || t.modifiedAt > query.modifiedAfter) &&
              (!query.uuids || query.uuids.includes(t.uuid)),
          ),
          query.pageSize,
          cursor,
        ),
      codeList: async (name) => {
        await call();
        return (name === 'FeatureStatus' ? this.statusCodes : this.priorityCodes).map((c) => ({ ...c }));
      },
      getFeature: async (uuid) => {
        await call();
        return this.features.find((f) => f.uuid === uuid && visible(f.projectId));
      },
      getTask: async (id) => {
        await call();
        return this.tasks.find((t) => t.id === id && visible(t.projectId));
      },
      listTaskRelations: async (taskId) => {
        await call();
        const task = taskOrThrow(taskId);
        return this.relations
          .filter((r) => r.sourceTaskId === task.id || r.targetTaskId === task.id)
          .map((r) => ({ ...r }));
      },
      listComments: async (taskId) => {
        await call();
        taskOrThrow(taskId);
        return this.commentsOf(taskId).map((c) => ({ ...c }));
      },
      postComment: async (taskId, text) => {
        await call();
        const task = taskOrThrow(taskId);
        const comment: CalmComment = { id: randomUUID(), taskId: task.id, text, createdAt: Date.now() };
        this.comments.push(comment);
        this.answerLost('postComment');
        return { ...comment };
      },
      updateFeatureStatus: async (uuid, statusCode) => {
        await call();
        const feature = featureOrThrow(uuid);
        feature.statusCode = statusCode;
        feature.modifiedAt = Math.max(Date.now(), feature.modifiedAt + 1);
      },
      updateFeatureDescription: async (uuid, html) => {
        await call();
        const feature = featureOrThrow(uuid);
        feature.description = html;
        feature.modifiedAt = Math.max(Date.now(), feature.modifiedAt + 1);
        this.answerLost('updateFeatureDescription');
      },
      listExternalReferences: async (featureUuid) => {
        await call();
        return this.externalReferences.filter((r) => r.parentUuid === featureUuid).map((r) => ({ ...r }));
      },
      createExternalReference: async (reference) => {
        await call();
        const feature = featureOrThrow(reference.parentUuid);
        if (this.externalReferences.some((r) => r.id === reference.id && r.parentUuid === feature.uuid))
          throw RemoteCallError.fromStatus(
            'cloud_alm',
            409,
            `Cloud ALM answered 409: External reference ${reference.id} already exists for this feature`,
          );
        const created = { ...reference, parentUuid: feature.uuid };
        this.externalReferences.push(created);
        this.answerLost('createExternalReference');
        return { ...created };
      },
    };
  }
}
