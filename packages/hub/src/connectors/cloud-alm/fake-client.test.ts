import { seedCalmProject } from '../../testing/calm-project.js';
import { FAKE_CALM_PROJECT, FAKE_SECRET, seedFakeCalm } from '../../testing/scenario.js';
import { cloudAlmClientContract } from './client.contract.js';
import { FakeCloudAlm } from './fake-client.js';

cloudAlmClientContract('in-memory fake', async () => {
  const calm = new FakeCloudAlm(FAKE_SECRET);
  seedFakeCalm(calm);
  const seeded = seedCalmProject(calm, {
    projectId: FAKE_CALM_PROJECT.id,
    tag: 1,
    features: 1,
    storiesPerFeature: 2,
  });
  const [first, second] = seeded.stories;
  if (first && second) calm.addRelation(second.id, first.id, 'DEPENDS_ON');
  return { client: calm.client(FAKE_SECRET), wrongSecret: calm.client('wrong'), known: FAKE_CALM_PROJECT };
});
