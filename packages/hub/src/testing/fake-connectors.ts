import type { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import type { Connectors } from '../connectors/connectors.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';

/** Connectors over an in-memory Cloud ALM, for hub tests that need no sandbox. */
export function fakeConnectors(calm: FakeCloudAlm): Connectors & { forgotten: string[] } {
  const forgotten: string[] = [];
  return {
    forgotten,
    cloudAlm: (credential) => calm.client(credential.secret.clientSecret ?? ''),
    async testCredential(credential) {
      try {
        const projects = await calm.client(credential.secret.clientSecret ?? '').listProjects();
        return {
          ok: true,
          check: 'fake token',
          message: `Token received; ${projects.length} Cloud ALM project(s) visible to this client.`,
        };
      } catch (error) {
        if (error instanceof RemoteCallError)
          return { ok: false, check: error.system, message: error.message, remoteStatus: error.remoteStatus };
        throw error;
      }
    },
    forget(credentialId) {
      forgotten.push(credentialId);
    },
  };
}
