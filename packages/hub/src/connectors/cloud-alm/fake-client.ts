import { RemoteCallError } from '../remote-call-error.js';
import type { CalmProject, CloudAlmClient } from './client.js';

/**
 * An in-memory Cloud ALM for unit tests: a project list and the client secret it accepts.
 * Held to the same contract suite as the HTTP client.
 */
export class FakeCloudAlm {
  readonly projects: CalmProject[] = [];
  /** Project ids the technical client may see; undefined: all. */
  visibleProjectIds: Set<string> | undefined;
  tokenRequests = 0;

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
    const visible = () =>
      this.projects.filter((p) => !this.visibleProjectIds || this.visibleProjectIds.has(p.id));
    return {
      authenticate,
      async listProjects() {
        await authenticate();
        return visible().map((p) => ({ ...p }));
      },
      async getProject(id) {
        await authenticate();
        const project = visible().find((p) => p.id === id);
        return project ? { ...project } : undefined;
      },
    };
  }
}
