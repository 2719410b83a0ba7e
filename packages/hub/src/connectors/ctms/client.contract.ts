import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RemoteCallError } from '../remote-call-error.js';
import type { CtmsAction, CtmsClient } from './client.js';

export interface CtmsContractSubject {
  /** A client with a valid credential. */
  client: CtmsClient;
  /** The same service, with a wrong client secret. */
  wrongSecret: CtmsClient;
  /** A node that accepts uploads; the suite adds its own requests to its queue. */
  nodeName: string;
  /** The failure switch: imports of this request end in `failure.status` (null: succeed again). */
  setImportFailure(
    requestId: number,
    failure: { status: 'error' | 'warning' | 'fatal'; message?: string } | null,
  ): Promise<void>;
  cleanup?: () => Promise<void>;
}

const FINAL = new Set(['succeeded', 'warning', 'error', 'fatal']);

/** Polls an action until it reaches a final status (imports run asynchronously). */
export async function awaitCtmsAction(
  client: CtmsClient,
  actionId: number,
  timeoutMs = 15_000,
): Promise<CtmsAction> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const action = await client.action(actionId);
    if (FINAL.has(action.status)) return action;
    if (Date.now() > until)
      throw new Error(`action ${actionId} still ${action.status} after ${timeoutMs} ms`);
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
 * What the hub relies on from SAP Cloud Transport Management, held against every implementation:
 * the in-memory fake (hub unit tests) and the HTTP client against a started sandbox (e2e).
 */
export function ctmsClientContract(name: string, setup: () => Promise<CtmsContractSubject>): void {
  describe(`CtmsClient contract: ${name}`, () => {
    const withSubject = (test: (subject: CtmsContractSubject) => Promise<void>) => async () => {
      const subject = await setup();
      try {
        await test(subject);
      } finally {
        await subject.cleanup?.();
      }
    };

    /** Uploads a file and creates a request with it in the subject's node. */
    const newRequest = async ({ client, nodeName }: CtmsContractSubject) => {
      const tag = randomUUID().slice(0, 8);
      const content = Buffer.from(`calmhub contract archive ${tag}`);
      const file = await client.uploadFile(`app-${tag}.mtar`, content, 'jane@corp.com');
      const created = await client.uploadToNode({
        nodeName,
        fileId: file.fileId,
        description: `US-${tag} contract`,
        namedUser: 'jane@corp.com',
      });
      const node = await client.findNode(nodeName);
      if (!node) throw new Error(`node ${nodeName} not found`);
      return { tag, file, requestId: created.transportRequestId, created, node };
    };

    it(
      'lists nodes and finds one by name; an unknown name is undefined; a wrong secret is the remote 401',
      withSubject(async ({ client, wrongSecret, nodeName }) => {
        const nodes = await client.listNodes();
        const node = nodes.find((n) => n.name === nodeName);
        expect(node).toBeDefined();
        expect(typeof node?.id).toBe('number');
        expect(await client.findNode(nodeName)).toEqual(node);
        expect(await client.findNode(`NOPE_${randomUUID().slice(0, 6)}`)).toBeUndefined();
        const error = await rejection(wrongSecret.listNodes());
        expect(error.remoteStatus).toBe(401);
        expect(error.retryable).toBe(false);
      }),
    );

    it(
      'uploads a file and queues it in the node as an initial request; the queue filters by status',
      withSubject(async (subject) => {
        const { client } = subject;
        const { tag, file, requestId, created, node } = await newRequest(subject);
        expect(file.fileName).toBe(`app-${tag}.mtar`);
        expect(created.queueEntries).toContainEqual({ nodeId: node.id, nodeName: node.name });
        const all = await client.queue(node.id);
        const request = all.find((r) => r.id === requestId);
        expect(request).toMatchObject({ status: 'initial', description: `US-${tag} contract` });
        expect(request?.entries.map((e) => e.uri)).toEqual([String(file.fileId)]);
        expect((await client.queue(node.id, ['initial'])).map((r) => r.id)).toContain(requestId);
        expect((await client.queue(node.id, ['succeeded', 'error'])).map((r) => r.id)).not.toContain(
          requestId,
        );
      }),
    );

    it(
      'imports a request asynchronously: the action ends succeeded, the queue says so, the logs tell',
      withSubject(async (subject) => {
        const { client } = subject;
        const { requestId, node } = await newRequest(subject);
        const { actionId } = await client.importRequests(node.id, [requestId], 'jane@corp.com');
        const action = await awaitCtmsAction(client, actionId);
        expect(action).toMatchObject({ id: actionId, status: 'succeeded' });
        expect(action.transportRequests).toContainEqual({ id: requestId, status: 'succeeded' });
        const queued = (await client.queue(node.id)).find((r) => r.id === requestId);
        expect(queued?.status).toBe('succeeded');
        const logs = await client.actionLogs(actionId);
        const mine = logs.find((l) => l.transportRequestId === requestId);
        expect(mine?.status).toBe('succeeded');
        expect(mine?.messages.length).toBeGreaterThan(0);
        const history = await client.requestLogs(node.id, requestId);
        expect(history.map((l) => l.actionId)).toContain(actionId);
      }),
    );

    it(
      'a failed import ends in error with its message logged; the errored request is refused until reset',
      withSubject(async (subject) => {
        const { client } = subject;
        const { requestId, node } = await newRequest(subject);
        const message = `Deployment of app failed: contract ${randomUUID().slice(0, 8)}`;
        await subject.setImportFailure(requestId, { status: 'error', message });
        const first = await awaitCtmsAction(
          client,
          (await client.importRequests(node.id, [requestId], 'jane@corp.com')).actionId,
        );
        expect(first.status).toBe('error');
        expect((await client.queue(node.id, ['error'])).map((r) => r.id)).toContain(requestId);
        const lines = (await client.actionLogs(first.id)).flatMap((l) => l.messages);
        expect(lines).toContainEqual(expect.objectContaining({ severity: 'E', message }));

        const refused = await rejection(client.importRequests(node.id, [requestId], 'jane@corp.com'));
        expect(refused.remoteStatus).toBe(400);
        expect(refused.retryable).toBe(false);

        await client.resetRequests(node.id, [requestId], 'jane@corp.com');
        expect((await client.queue(node.id)).find((r) => r.id === requestId)?.status).toBe('repeatable');
        await subject.setImportFailure(requestId, null);
        const again = await awaitCtmsAction(
          client,
          (await client.importRequests(node.id, [requestId], 'jane@corp.com')).actionId,
        );
        expect(again.status).toBe('succeeded');
      }),
    );

    it(
      'refuses to import a request that is not in the queue with a 400',
      withSubject(async (subject) => {
        const { client, nodeName } = subject;
        const node = await client.findNode(nodeName);
        const error = await rejection(client.importRequests(node?.id ?? 0, [2_000_000_000], 'jane@corp.com'));
        expect(error.remoteStatus).toBe(400);
      }),
    );
  });
}
