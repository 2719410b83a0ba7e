/**
 * SAP Integration Suite, Cloud Integration OData v2 API (reference delivery-apis §3b). Base: the
 * tenant's API URL ending in `/api/v1`. Throws RemoteCallError (system 'cloud_integration');
 * CSRF fetch-and-retry is the client's business, never its caller's.
 */
export interface DesigntimeArtifact {
  id: string;
  version: string;
  name: string;
  packageId?: string | undefined;
}

export interface RuntimeArtifact {
  id: string;
  version: string;
  name?: string | undefined;
  /** STARTED, STARTING, ERROR, ... */
  status: string;
  deployedBy?: string | undefined;
  deployedOn?: string | undefined;
}

/** DEPLOYING, SUCCESS, FAIL, FAIL_ON_LICENSE_ERROR. */
export type BuildAndDeployStatus = string;

export interface CloudIntegrationClient {
  /** Undefined when the artifact does not exist (404). `version` defaults to 'active'. */
  getArtifact(id: string, version?: string): Promise<DesigntimeArtifact | undefined>;
  /** The artifact's zip. */
  downloadArtifact(id: string, version?: string): Promise<Buffer>;
  createArtifact(input: { id: string; name: string; packageId: string; content: Buffer }): Promise<void>;
  updateArtifact(input: { id: string; name: string; content: Buffer }): Promise<void>;
  /** Starts a deployment of the active version; returns the task id. */
  deploy(id: string): Promise<string>;
  buildAndDeployStatus(taskId: string): Promise<BuildAndDeployStatus>;
  /** Undefined when not deployed. */
  runtimeArtifact(id: string): Promise<RuntimeArtifact | undefined>;
  /** The runtime error text, if any. */
  runtimeError(id: string): Promise<string | undefined>;
  /** Creates the package when missing (upload needs one). */
  ensurePackage(input: { id: string; name: string }): Promise<void>;
}
