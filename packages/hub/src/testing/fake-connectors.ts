import type { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import type { FakeCloudIntegration } from '../connectors/cloud-integration/fake-client.js';
import type { Connectors } from '../connectors/connectors.js';
import type { ResolvedCredential } from '../connectors/credential.js';
import type { FakeCtms } from '../connectors/ctms/fake-client.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';

export {
  awaitDeployment,
  type CloudIntegrationContractSubject,
  cloudIntegrationClientContract,
} from '../connectors/cloud-integration/client.contract.js';
export { FakeCloudIntegration } from '../connectors/cloud-integration/fake-client.js';
export {
  type CloudIntegrationServiceKeyFields,
  cloudIntegrationClientFromServiceKey,
  cloudIntegrationCredentialFromServiceKey,
} from '../connectors/cloud-integration/from-service-key.js';
export { HttpCloudIntegrationClient } from '../connectors/cloud-integration/http-client.js';
export { buildIflowArchive } from '../connectors/cloud-integration/iflow-archive.js';
export {
  awaitCtmsAction,
  type CtmsContractSubject,
  ctmsClientContract,
} from '../connectors/ctms/client.contract.js';
export { FakeCtms, type FakeImportFailure } from '../connectors/ctms/fake-client.js';
export {
  type CtmsServiceKeyFields,
  ctmsClientFromServiceKey,
  ctmsCredentialFromServiceKey,
} from '../connectors/ctms/from-service-key.js';
export { HttpCtmsClient } from '../connectors/ctms/http-client.js';

/** The fakes behind `fakeConnectors`, beyond Cloud ALM. */
export interface FakeDeliveryServices {
  ctms?: FakeCtms | undefined;
  cloudIntegration?: FakeCloudIntegration | undefined;
}

/** The secret a fake checks: the client secret, or the password of a Basic credential. */
const secretOf = (credential: ResolvedCredential) =>
  (credential.type === 'basic' ? credential.secret.password : credential.secret.clientSecret) ?? '';

/**
 * Connectors over an in-memory Cloud ALM (and, when given, CTMS and Cloud Integration), for hub
 * tests that need no sandbox. A connector whose fake was not given throws when asked for.
 */
export function fakeConnectors(
  calm: FakeCloudAlm,
  services: FakeDeliveryServices = {},
): Connectors & { forgotten: string[] } {
  const forgotten: string[] = [];
  const missing = (what: string, option: string) =>
    new Error(
      `fakeConnectors: this test uses ${what} but passed no fake; call fakeConnectors(calm, { ${option} })`,
    );
  const ctms = (credential: ResolvedCredential) => {
    if (!services.ctms) throw missing('CTMS', 'ctms: new FakeCtms(secret)');
    return services.ctms.client(secretOf(credential));
  };
  const cloudIntegration = (credential: ResolvedCredential) => {
    if (!services.cloudIntegration)
      throw missing('Cloud Integration', 'cloudIntegration: new FakeCloudIntegration(secret)');
    return services.cloudIntegration.client(secretOf(credential));
  };
  const attempt = async (check: string, read: () => Promise<string>) => {
    try {
      return { ok: true, check, message: await read() };
    } catch (error) {
      if (error instanceof RemoteCallError)
        return { ok: false, check: error.system, message: error.message, remoteStatus: error.remoteStatus };
      throw error;
    }
  };
  return {
    forgotten,
    cloudAlm: (credential) => calm.client(credential.secret.clientSecret ?? ''),
    ctms,
    cloudIntegration,
    async testCredential(credential) {
      if (credential.system === 'ctms' && services.ctms)
        return attempt('fake token, then GET /v2/nodes', async () => {
          const nodes = await ctms(credential).listNodes();
          return `Token received; ${nodes.length} transport node(s) visible to this client.`;
        });
      if (credential.system === 'cloud_integration' && services.cloudIntegration) {
        const client = services.cloudIntegration.client(secretOf(credential));
        return attempt('fake token, then GET /IntegrationPackages?$top=1', async () => {
          await client.listPackages(1);
          return 'Cloud Integration answered: this client may read integration packages.';
        });
      }
      return attempt('fake token', async () => {
        const projects = await calm.client(credential.secret.clientSecret ?? '').listProjects();
        return `Token received; ${projects.length} Cloud ALM project(s) visible to this client.`;
      });
    },
    forget(credentialId) {
      forgotten.push(credentialId);
    },
  };
}
