import { RemoteCallError } from '../remote-call-error.js';
import type {
  CalmCode,
  CalmFeature,
  CalmProject,
  CalmTask,
  CalmTaskAssignment,
  CalmTransport,
  CalmTransportReference,
  CloudAlmClient,
  Page,
  PageCursor,
} from './client.js';

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

  constructor(readonly acceptedSecret: string) {}

  addProject(project: CalmProject): CalmProject {
    this.projects.push(project);
    return project;
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
    };
  }
}
