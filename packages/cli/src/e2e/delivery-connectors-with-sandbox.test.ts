import {
  cloudIntegrationClientContract,
  cloudIntegrationClientFromServiceKey,
  ctmsClientContract,
  ctmsClientFromServiceKey,
} from '@calmhub/hub/testing';
import { TokenCache } from '@calmhub/platform';
import { type CpiServiceKey, type CtmsServiceKey, type Sandbox, startSandbox } from '@calmhub/sandbox';
import { afterAll } from 'vitest';
import { sandboxAdmin } from './helpers.js';

/**
 * The hub's CTMS and Cloud Integration HTTP clients held to their contracts against one started
 * sandbox (the fakes run the same suites in packages/hub). Set-up uses only the admin API.
 */
interface Delivery {
  sandbox: Sandbox;
  ctmsKey: CtmsServiceKey;
  cpiKey: CpiServiceKey;
  basic: { name: string; password: string };
}
let started: Promise<Delivery> | undefined;

function delivery(): Promise<Delivery> {
  started ??= (async () => {
    const sandbox = await startSandbox({ port: 0, memory: true, logLevel: 'silent' });
    await sandboxAdmin(sandbox, 'PATCH', '/ctms/settings', { importDurationMs: 50 });
    await sandboxAdmin(sandbox, 'PATCH', '/cpi/settings', { deployDurationMs: 50 });
    await sandboxAdmin(sandbox, 'POST', '/ctms/nodes', {
      name: 'CONTRACT_QAS',
      description: 'contract runs',
    });
    return {
      sandbox,
      ctmsKey: await sandboxAdmin<CtmsServiceKey>(sandbox, 'GET', '/ctms/service-key'),
      cpiKey: await sandboxAdmin<CpiServiceKey>(sandbox, 'GET', '/cpi/service-key'),
      basic: await sandboxAdmin(sandbox, 'POST', '/cpi/users', { name: 'contract-deployer' }),
    };
  })();
  return started;
}

afterAll(async () => {
  if (started) await (await started).sandbox.stop();
});

ctmsClientContract('HTTP client against the sandbox', async () => {
  const { sandbox, ctmsKey } = await delivery();
  const context = { tokens: new TokenCache(), timeoutMs: 10_000, now: () => Date.now() };
  return {
    client: ctmsClientFromServiceKey(ctmsKey, { context }),
    wrongSecret: ctmsClientFromServiceKey(ctmsKey, { context, clientSecret: 'wrong-secret' }),
    nodeName: 'CONTRACT_QAS',
    setImportFailure: async (requestId, failure) => {
      const path = `/ctms/transport-requests/${requestId}/import-failure`;
      await (failure ? sandboxAdmin(sandbox, 'PUT', path, failure) : sandboxAdmin(sandbox, 'DELETE', path));
    },
  };
});

cloudIntegrationClientContract('HTTP client against the sandbox', async () => {
  const { sandbox, cpiKey, basic } = await delivery();
  const context = { tokens: new TokenCache(), timeoutMs: 10_000, now: () => Date.now() };
  return {
    client: cloudIntegrationClientFromServiceKey(cpiKey, { context }),
    wrongSecret: cloudIntegrationClientFromServiceKey(cpiKey, { context, clientSecret: 'wrong-secret' }),
    basic: cloudIntegrationClientFromServiceKey(cpiKey, {
      context,
      basic: { username: basic.name, password: basic.password },
    }),
    setDeployFailure: async (id, message) => {
      const path = `/cpi/artifacts/${encodeURIComponent(id)}/deploy-failure`;
      await (message === null
        ? sandboxAdmin(sandbox, 'DELETE', path)
        : sandboxAdmin(sandbox, 'PUT', path, { message }));
    },
  };
});
