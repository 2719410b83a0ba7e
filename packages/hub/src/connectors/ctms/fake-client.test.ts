import { ctmsClientContract } from './client.contract.js';
import { FakeCtms } from './fake-client.js';

ctmsClientContract('in-memory fake', async () => {
  const ctms = new FakeCtms('ctms-secret');
  ctms.addNode('QAS', { forwardTo: ['PRD'] });
  ctms.addNode('PRD');
  ctms.importPolls = 2;
  return {
    client: ctms.client('ctms-secret'),
    wrongSecret: ctms.client('wrong'),
    nodeName: 'QAS',
    setImportFailure: async (requestId, failure) => ctms.setImportFailure(requestId, failure),
  };
});
