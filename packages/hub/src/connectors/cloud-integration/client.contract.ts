import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RemoteCallError } from '../remote-call-error.js';
import type { BuildAndDeployStatus, CloudIntegrationClient } from './client.js';
import { buildIflowArchive } from './iflow-archive.js';

export interface CloudIntegrationContractSubject {
  /** A client with a valid credential (OAuth client credentials). */
  client: CloudIntegrationClient;
  /** The same tenant, with a wrong client secret. */
  wrongSecret: CloudIntegrationClient;
  /** The same tenant through HTTP Basic authentication, where the implementation has it. */
  basic?: CloudIntegrationClient | undefined;
  /** The failure switch: deployments of this artifact end in FAIL with `message` (null: succeed again). */
  setDeployFailure(id: string, message: string | null): Promise<void>;
  cleanup?: () => Promise<void>;
}

/** Polls a deployment task until it leaves DEPLOYING (deployments run asynchronously). */
export async function awaitDeployment(
  client: CloudIntegrationClient,
  taskId: string,
  timeoutMs = 15_000,
): Promise<BuildAndDeployStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await client.buildAndDeployStatus(taskId);
    if (status !== 'DEPLOYING') return status;
    if (Date.now() > until) throw new Error(`deployment ${taskId} still DEPLOYING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function rejection(promise: Promise<unknown>): Promise<RemoteCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RemoteCallError);
  return error as RemoteCallError;
}

/**
 * What the hub relies on from SAP Cloud Integration, held against every implementation: the
 * in-memory fake (hub unit tests) and the HTTP client against a started sandbox (e2e).
 */
export function cloudIntegrationClientContract(
  name: string,
  setup: () => Promise<CloudIntegrationContractSubject>,
): void {
  describe(`CloudIntegrationClient contract: ${name}`, () => {
    const withSubject = (test: (subject: CloudIntegrationContractSubject) => Promise<void>) => async () => {
      const subject = await setup();
      try {
        await test(subject);
      } finally {
        await subject.cleanup?.();
      }
    };

    /** A new package and an artifact in it. */
    const newArtifact = async (client: CloudIntegrationClient) => {
      const tag = randomUUID().slice(0, 8);
      const packageId = `CalmhubContract${tag}`;
      const id = `Contract_Flow_${tag}`;
      const content = buildIflowArchive({ id, name: `Contract flow ${tag}`, version: '1.0.0' });
      await client.ensurePackage({ id: packageId, name: `calmhub contract ${tag}` });
      await client.ensurePackage({ id: packageId, name: `calmhub contract ${tag}` });
      await client.createArtifact({ id, name: `Contract flow ${tag}`, packageId, content });
      return { tag, id, packageId, content };
    };

    it(
      'refuses a wrong secret with the remote 401',
      withSubject(async ({ wrongSecret }) => {
        const error = await rejection(wrongSecret.getArtifact('Any_Flow'));
        expect(error.remoteStatus).toBe(401);
        expect(error.retryable).toBe(false);
      }),
    );

    it(
      'creates a package and an artifact, reads and downloads it, refuses a duplicate with 409, updates it',
      withSubject(async ({ client }) => {
        expect(await client.getArtifact(`Absent_${randomUUID().slice(0, 8)}`)).toBeUndefined();
        const { tag, id, packageId, content } = await newArtifact(client);
        expect(await client.getArtifact(id)).toEqual({
          id,
          version: '1.0.0',
          name: `Contract flow ${tag}`,
          packageId,
        });
        expect(await client.getArtifact(id, '1.0.0')).toMatchObject({ id, version: '1.0.0' });
        expect((await client.downloadArtifact(id)).equals(content)).toBe(true);

        const duplicate = await rejection(client.createArtifact({ id, name: 'again', packageId, content }));
        expect(duplicate.remoteStatus).toBe(409);
        expect(duplicate.retryable).toBe(false);

        const next = buildIflowArchive({ id, name: `Contract flow ${tag} v2`, version: '1.0.1' });
        await client.updateArtifact({ id, name: `Contract flow ${tag} v2`, content: next });
        expect(await client.getArtifact(id)).toMatchObject({
          name: `Contract flow ${tag} v2`,
          version: '1.0.1',
        });
        expect((await client.downloadArtifact(id, 'active')).equals(next)).toBe(true);
      }),
    );

    it(
      'deploys: the task ends SUCCESS and the runtime artifact is STARTED without an error',
      withSubject(async ({ client }) => {
        const { id } = await newArtifact(client);
        expect(await client.runtimeArtifact(id)).toBeUndefined();
        const taskId = await client.deploy(id);
        expect(taskId).toMatch(/\S/);
        expect(await awaitDeployment(client, taskId)).toBe('SUCCESS');
        expect(await client.runtimeArtifact(id)).toMatchObject({ id, version: '1.0.0', status: 'STARTED' });
        expect(await client.runtimeError(id)).toBeUndefined();
      }),
    );

    it(
      'a failed deployment ends FAIL, the runtime artifact in ERROR with its error text; a later one succeeds',
      withSubject(async (subject) => {
        const { client } = subject;
        const { id } = await newArtifact(client);
        const message = `Adapter configuration invalid: contract ${randomUUID().slice(0, 8)}`;
        await subject.setDeployFailure(id, message);
        expect(await awaitDeployment(client, await client.deploy(id))).toBe('FAIL');
        expect((await client.runtimeArtifact(id))?.status).toBe('ERROR');
        expect(await client.runtimeError(id)).toContain(message);

        await subject.setDeployFailure(id, null);
        expect(await awaitDeployment(client, await client.deploy(id))).toBe('SUCCESS');
        expect((await client.runtimeArtifact(id))?.status).toBe('STARTED');
        expect(await client.runtimeError(id)).toBeUndefined();
      }),
    );

    it(
      'answers an unknown deployment task with the remote 404',
      withSubject(async ({ client }) => {
        const error = await rejection(client.buildAndDeployStatus(randomUUID()));
        expect(error.remoteStatus).toBe(404);
      }),
    );

    it(
      'writes with Basic authentication too (the CSRF protocol is the client business)',
      withSubject(async ({ basic }) => {
        if (!basic) return;
        const { tag, id } = await newArtifact(basic);
        const next = buildIflowArchive({ id, name: `Basic flow ${tag}`, version: '2.0.0' });
        await basic.updateArtifact({ id, name: `Basic flow ${tag}`, content: next });
        expect(await awaitDeployment(basic, await basic.deploy(id))).toBe('SUCCESS');
        expect(await basic.runtimeArtifact(id)).toMatchObject({ id, version: '2.0.0', status: 'STARTED' });
      }),
    );
  });
}
