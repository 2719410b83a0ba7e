import type { Hub } from '../app/build-hub.js';

/**
 * Waits until no job of `name` (any job when omitted) is queued or running: for tests whose
 * actions enqueue follow-up work (write-backs) that must be done, or must not be under way.
 */
export async function waitForJobs(target: { hub: Hub }, name?: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await target.hub.queue.list({ ...(name ? { name } : {}), limit: 1000 });
    if (jobs.every((job) => job.state === 'dead')) return;
    if (Date.now() > until)
      throw new Error(`jobs still waiting after ${timeoutMs} ms: ${jobs.map((j) => j.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
