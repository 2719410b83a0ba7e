import { cloudIntegrationClientContract } from './client.contract.js';
import { FakeCloudIntegration } from './fake-client.js';

cloudIntegrationClientContract('in-memory fake', async () => {
  const cpi = new FakeCloudIntegration('cpi-secret');
  cpi.deployPolls = 2;
  return {
    client: cpi.client('cpi-secret'),
    wrongSecret: cpi.client('wrong'),
    basic: cpi.client('cpi-secret'),
    setDeployFailure: async (id, message) => cpi.setDeployFailure(id, message),
  };
});
