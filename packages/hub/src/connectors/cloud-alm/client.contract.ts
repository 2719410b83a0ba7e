import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RemoteCallError } from '../remote-call-error.js';
import type { CloudAlmClient } from './client.js';

export interface CloudAlmContractSubject {
  /** A client with a valid credential. */
  client: CloudAlmClient;
  /** The same tenant, with a wrong client secret. */
  wrongSecret: CloudAlmClient;
  /** A project the client sees. */
  known: { id: string; name: string };
  cleanup?: () => Promise<void>;
}

/**
 * What the hub relies on from Cloud ALM, held against every implementation: the in-memory fake
 * (hub unit tests) and the HTTP client against a started sandbox (e2e).
 */
export function cloudAlmClientContract(name: string, setup: () => Promise<CloudAlmContractSubject>): void {
  describe(`CloudAlmClient contract: ${name}`, () => {
    const withSubject = (test: (subject: CloudAlmContractSubject) => Promise<void>) => async () => {
      const subject = await setup();
      try {
        await test(subject);
      } finally {
        await subject.cleanup?.();
      }
    };

    it(
      'authenticates with a valid credential and refuses a wrong secret with the remote 401',
      withSubject(async ({ client, wrongSecret }) => {
        await client.authenticate();
        const error = await wrongSecret.authenticate().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RemoteCallError);
        expect((error as RemoteCallError).remoteStatus).toBe(401);
        expect((error as RemoteCallError).retryable).toBe(false);
      }),
    );

    it(
      'lists the projects the client sees, by id and name',
      withSubject(async ({ client, known }) => {
        const projects = await client.listProjects();
        expect(projects).toContainEqual(expect.objectContaining({ id: known.id, name: known.name }));
      }),
    );

    it(
      'reads one project, and answers undefined for an unknown id',
      withSubject(async ({ client, known }) => {
        expect(await client.getProject(known.id)).toMatchObject({ id: known.id, name: known.name });
        expect(await client.getProject(randomUUID())).toBeUndefined();
      }),
    );
  });
}
