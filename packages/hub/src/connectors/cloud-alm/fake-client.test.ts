import { FAKE_CALM_PROJECT, FAKE_SECRET, seedFakeCalm } from '../../testing/scenario.js';
import { cloudAlmClientContract } from './client.contract.js';
import { FakeCloudAlm } from './fake-client.js';

cloudAlmClientContract('in-memory fake', async () => {
  const calm = new FakeCloudAlm(FAKE_SECRET);
  seedFakeCalm(calm);
  return { client: calm.client(FAKE_SECRET), wrongSecret: calm.client('wrong'), known: FAKE_CALM_PROJECT };
});
