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

export interface CloudAlmClient {
  /** Gets an access token: proves the credential and the token URL. */
  authenticate(): Promise<void>;
  /** `GET /calm-projects/v1/projects`. Empty when the technical client sees no project. */
  listProjects(): Promise<CalmProject[]>;
  /** `GET /calm-projects/v1/projects/{id}`; undefined when it does not exist or is not visible. */
  getProject(id: string): Promise<CalmProject | undefined>;
}
