import { randomUUID } from 'node:crypto';
import { RemoteCallError } from '../remote-call-error.js';
import type { CloudIntegrationClient, RuntimeArtifact } from './client.js';

interface FakeArtifact {
  id: string;
  version: string;
  name: string;
  packageId: string;
  content: Buffer;
  /** The deploy failure switch: deployments end in FAIL with this text. */
  deployFailure: string | undefined;
}

interface FakeTask {
  taskId: string;
  artifactId: string;
  status: string;
  /** API calls left that still see the task DEPLOYING. */
  callsLeft: number;
}

/** `Bundle-Version` of an iFlow archive's manifest, when it is stored uncompressed (else 1.0.0). */
function bundleVersion(content: Buffer): string {
  return /Bundle-Version:\s*([^\r\n]+)/.exec(content.toString('latin1'))?.[1]?.trim() ?? '1.0.0';
}

/**
 * An in-memory Cloud Integration tenant for unit tests: packages, design-time artifacts with
 * their zips, deployments that end in SUCCESS (runtime STARTED) or, behind the failure switch,
 * FAIL (runtime ERROR with the error text). A deployment stays DEPLOYING while `deployPolls`
 * further API calls see it (default 0: it has ended by the next call). Held to the same contract
 * suite as the HTTP client.
 */
export class FakeCloudIntegration {
  readonly packages: Array<{ id: string; name: string }> = [];
  readonly artifacts: FakeArtifact[] = [];
  readonly runtime: Array<RuntimeArtifact & { error: string | undefined; taskId: string }> = [];
  readonly tasks: FakeTask[] = [];
  deployPolls = 0;
  tokenRequests = 0;
  calls = 0;
  /** Throws this (once) on the next API call, to exercise failures. */
  failNext: RemoteCallError | undefined;

  constructor(
    readonly acceptedSecret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The failure switch: deployments of this artifact end in FAIL with `message` until cleared (null). */
  setDeployFailure(id: string, message: string | null): void {
    const artifact = this.artifacts.find((a) => a.id === id);
    if (!artifact) throw new Error(`FakeCloudIntegration: no artifact ${id}`);
    artifact.deployFailure = message ?? undefined;
  }

  /** A design-time artifact as a test's starting point (no API call counted). */
  addArtifact(input: {
    id: string;
    name: string;
    packageId: string;
    content: Buffer;
    version?: string;
  }): void {
    if (!this.packages.some((p) => p.id === input.packageId))
      this.packages.push({ id: input.packageId, name: input.packageId });
    this.artifacts.push({
      id: input.id,
      name: input.name,
      packageId: input.packageId,
      content: Buffer.from(input.content),
      version: input.version ?? bundleVersion(input.content),
      deployFailure: undefined,
    });
  }

  /** A client; `secret` is the client secret (OAuth) or the password (Basic) it authenticates with. */
  client(
    secret: string,
  ): CloudIntegrationClient & { listPackages(top?: number): Promise<Array<{ id: string; name: string }>> } {
    const call = async () => {
      this.tokenRequests++;
      if (secret !== this.acceptedSecret)
        throw RemoteCallError.fromStatus('token_service', 401, 'Token service answered 401: Bad credentials');
      this.calls++;
      const failure = this.failNext;
      this.failNext = undefined;
      if (failure) throw failure;
      this.advanceDeployments();
    };
    const artifactOf = (id: string, version: string, path: string) => {
      const artifact = this.artifacts.find(
        (a) => a.id === id && (version === 'active' || version === a.version),
      );
      if (!artifact)
        throw RemoteCallError.fromStatus(
          'cloud_integration',
          404,
          `Cloud Integration answered 404 to ${path}: Integration design time artifact '${id}' with version '${version}' does not exist`,
        );
      return artifact;
    };
    return {
      listPackages: async (top) => {
        await call();
        return this.packages.slice(0, top ?? this.packages.length).map((p) => ({ ...p }));
      },
      getArtifact: async (id, version = 'active') => {
        await call();
        const artifact = this.artifacts.find(
          (a) => a.id === id && (version === 'active' || version === a.version),
        );
        return artifact
          ? { id: artifact.id, version: artifact.version, name: artifact.name, packageId: artifact.packageId }
          : undefined;
      },
      downloadArtifact: async (id, version = 'active') => {
        await call();
        return Buffer.from(artifactOf(id, version, 'GET /IntegrationDesigntimeArtifacts/$value').content);
      },
      createArtifact: async (input) => {
        await call();
        const path = 'POST /IntegrationDesigntimeArtifacts';
        if (!this.packages.some((p) => p.id === input.packageId))
          throw RemoteCallError.fromStatus(
            'cloud_integration',
            404,
            `Cloud Integration answered 404 to ${path}: Integration package '${input.packageId}' does not exist`,
          );
        if (this.artifacts.some((a) => a.id === input.id))
          throw RemoteCallError.fromStatus(
            'cloud_integration',
            409,
            `Cloud Integration answered 409 to ${path}: Integration design time artifact '${input.id}' already exists`,
          );
        this.addArtifact(input);
      },
      updateArtifact: async (input) => {
        await call();
        const artifact = artifactOf(input.id, 'active', 'PUT /IntegrationDesigntimeArtifacts');
        artifact.name = input.name;
        artifact.content = Buffer.from(input.content);
        artifact.version = bundleVersion(input.content);
      },
      deploy: async (id) => {
        await call();
        const artifact = artifactOf(id, 'active', 'POST /DeployIntegrationDesigntimeArtifact');
        const task: FakeTask = {
          taskId: randomUUID(),
          artifactId: artifact.id,
          status: 'DEPLOYING',
          callsLeft: this.deployPolls,
        };
        this.tasks.push(task);
        const runtime = {
          id: artifact.id,
          version: artifact.version,
          name: artifact.name,
          status: 'STARTING',
          deployedBy: 'fake',
          deployedOn: new Date(this.now()).toISOString(),
          error: undefined,
          taskId: task.taskId,
        };
        const index = this.runtime.findIndex((r) => r.id === artifact.id);
        if (index >= 0) this.runtime[index] = runtime;
        else this.runtime.push(runtime);
        return task.taskId;
      },
      buildAndDeployStatus: async (taskId) => {
        await call();
        const task = this.tasks.find((t) => t.taskId === taskId);
        if (!task)
          throw RemoteCallError.fromStatus(
            'cloud_integration',
            404,
            `Cloud Integration answered 404 to GET /BuildAndDeployStatus: Build and deploy task '${taskId}' does not exist`,
          );
        return task.status;
      },
      runtimeArtifact: async (id) => {
        await call();
        const runtime = this.runtime.find((r) => r.id === id);
        if (!runtime) return undefined;
        const { error: _error, taskId: _taskId, ...view } = runtime;
        return view;
      },
      runtimeError: async (id) => {
        await call();
        return this.runtime.find((r) => r.id === id)?.error;
      },
      ensurePackage: async (input) => {
        await call();
        if (!this.packages.some((p) => p.id === input.id)) this.packages.push({ ...input });
      },
    };
  }

  /** Deployments end once `deployPolls` further calls have seen them DEPLOYING. */
  private advanceDeployments(): void {
    for (const task of this.tasks) {
      if (task.status !== 'DEPLOYING') continue;
      if (task.callsLeft > 0) {
        task.callsLeft--;
        continue;
      }
      const failure = this.artifacts.find((a) => a.id === task.artifactId)?.deployFailure;
      task.status = failure ? 'FAIL' : 'SUCCESS';
      const runtime = this.runtime.find((r) => r.id === task.artifactId && r.taskId === task.taskId);
      if (runtime) {
        runtime.status = failure ? 'ERROR' : 'STARTED';
        runtime.error = failure;
        runtime.deployedOn = new Date(this.now()).toISOString();
      }
    }
  }
}
