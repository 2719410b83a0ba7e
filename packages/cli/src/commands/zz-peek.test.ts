import { FakeCloudAlm } from '@calmhub/hub';
import { FAKE_SECRET, fakeConnectors, givenCalmItems, givenScenario, seedFakeCalm, startTestHub } from '@calmhub/hub/testing';
import { it } from 'vitest';
import { runCli } from '../run-cli.js';
it('peek', async () => {
  const calm = new FakeCloudAlm(FAKE_SECRET); seedFakeCalm(calm);
  const hub = await startTestHub({ connectors: fakeConnectors(calm) });
  const s = await givenScenario(hub); await givenCalmItems(hub, s);
  let out = '';
  const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (out += t) } };
  const c = (...a: string[]) => runCli([...a, '--url', hub.url, '--token', s.admin], io);
  await c('stories', '--project', 'Finance', '--limit', '3');
  await c('components', 'add', '6-11', '--transport', 'S4DK900121');
  await c('stories', 'show', '6-11');
  await c('components', 'suggest', '6-12');
  console.log(out);
  await hub.stop();
});
