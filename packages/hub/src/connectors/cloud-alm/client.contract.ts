import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RemoteCallError } from '../remote-call-error.js';
import type { CalmTaskRelation, CloudAlmClient } from './client.js';

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

    /** A user story and a feature of the known project (the subject's tenant must have both). */
    const itemsOf = async ({ client, known }: CloudAlmContractSubject) => {
      const tasks = await client.tasks({ projectId: known.id, type: 'CALMUS', pageSize: 5 }, null);
      const features = await client.features({ projectId: known.id, pageSize: 5 }, null);
      const task = tasks.items[0];
      const feature = features.items[0];
      if (!task || !feature) throw new Error(`project ${known.id} needs a user story and a feature`);
      return { task, feature };
    };

    it(
      'posts a comment on a user story verbatim and lists it back; an unknown task is a 404',
      withSubject(async (subject) => {
        const { client } = subject;
        const { task } = await itemsOf(subject);
        const text = `calmhub: transport S4DK900121 attached [calmhub:${randomUUID().slice(0, 8)}]`;
        const posted = await client.postComment(task.id, text);
        expect(posted).toMatchObject({ text });
        const comments = await client.listComments(task.id);
        expect(comments.filter((c) => c.text === text)).toHaveLength(1);
        const error = await client.postComment(randomUUID(), text).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RemoteCallError);
        expect((error as RemoteCallError).remoteStatus).toBe(404);
        expect((error as RemoteCallError).retryable).toBe(false);
      }),
    );

    it(
      "moves a feature's status one step along Cloud ALM's lifecycle, read back",
      withSubject(async ({ client, known }) => {
        const next: Record<string, string> = {
          CREATED: 'IN_REALIZATION',
          IN_REALIZATION: 'IN_TESTING',
          IN_TESTING: 'SUCCESSFULLY_TESTED',
          SUCCESSFULLY_TESTED: 'APPROVED_FOR_DEPLOYMENT',
          APPROVED_FOR_DEPLOYMENT: 'CONFIRMED',
        };
        const features = await client.features({ projectId: known.id, pageSize: 50 }, null);
        // A tenant's own codes may differ: any feature then, moved to the first lifecycle status.
        const feature = features.items.find((f) => next[f.statusCode]) ?? features.items[0];
        if (!feature) throw new Error(`project ${known.id} needs a feature`);
        const target = next[feature.statusCode] ?? 'IN_REALIZATION';
        await client.updateFeatureStatus(feature.uuid, target);
        expect((await client.getFeature(feature.uuid))?.statusCode).toBe(target);
      }),
    );

    it(
      "replaces a feature's description with the HTML given, read back as sent",
      withSubject(async (subject) => {
        const { client } = subject;
        const { feature } = await itemsOf(subject);
        const before = (await client.getFeature(feature.uuid))?.description ?? '';
        const html = `${before}<p>2026-11-30 08:00 UTC — calmhub: line [calmhub:${randomUUID().slice(0, 8)}]</p>`;
        await client.updateFeatureDescription(feature.uuid, html);
        expect((await client.getFeature(feature.uuid))?.description).toBe(html);
      }),
    );

    it(
      'creates an external reference of a feature, lists it by parent, and refuses the same id again with 409',
      withSubject(async (subject) => {
        const { client } = subject;
        const { feature } = await itemsOf(subject);
        const reference = {
          id: randomUUID(),
          parentUuid: feature.uuid,
          name: 'calmhub',
          url: 'https://calmhub.example.com/stories/1',
        };
        expect(await client.createExternalReference(reference)).toMatchObject(reference);
        const listed = await client.listExternalReferences(feature.uuid);
        expect(listed.filter((r) => r.id === reference.id)).toEqual([reference]);
        expect(listed.every((r) => r.parentUuid === feature.uuid)).toBe(true);
        const again = await client.createExternalReference(reference).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(again).toBeInstanceOf(RemoteCallError);
        expect((again as RemoteCallError).remoteStatus).toBe(409);
        expect((again as RemoteCallError).retryable).toBe(false);
      }),
    );

    it(
      "lists a task's relations from both ends, each with its ends and an upper-case type; an unknown task is a 404",
      withSubject(async ({ client, known }) => {
        // The known project must have at least one DEPENDS_ON relation between user stories.
        const tasks = await client.tasks({ projectId: known.id, type: 'CALMUS', pageSize: 100 }, null);
        let found: { taskId: string; relation: CalmTaskRelation } | undefined;
        for (const task of tasks.items) {
          const relations = await client.listTaskRelations(task.id);
          for (const relation of relations) {
            expect(relation).toEqual({
              id: expect.any(String),
              sourceTaskId: expect.any(String),
              targetTaskId: expect.any(String),
              type: expect.stringMatching(/^[A-Z_]+$/),
            });
            expect([relation.sourceTaskId, relation.targetTaskId]).toContain(task.id);
          }
          const dependsOn = relations.find((r) => r.type === 'DEPENDS_ON' && r.sourceTaskId === task.id);
          if (dependsOn) {
            found = { taskId: task.id, relation: dependsOn };
            break;
          }
        }
        if (!found) throw new Error(`project ${known.id} needs a DEPENDS_ON relation between user stories`);
        const fromTarget = await client.listTaskRelations(found.relation.targetTaskId);
        expect(fromTarget.map((r) => r.id)).toContain(found.relation.id);
        const error = await client.listTaskRelations(randomUUID()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RemoteCallError);
        expect((error as RemoteCallError).remoteStatus).toBe(404);
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
