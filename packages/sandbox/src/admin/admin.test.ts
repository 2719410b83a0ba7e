import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

let h: Harness;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'calmhub-sandbox-admin-'));
  h = await startHarness({ memory: true, dataDir });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /admin/service-key', () => {
  it('answers the default client service key, byte for byte the service-key.json file', async () => {
    const response = await h.admin('/service-key');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await response.text();
    expect(text).toBe(readFileSync(join(dataDir, 'sandbox', 'service-key.json'), 'utf8'));
    const key = JSON.parse(text) as typeof h.sandbox.serviceKey;
    expect(key).toEqual(h.sandbox.serviceKey);
    // It is a working key (reference §1.1 layout): its credentials get a token.
    expect(await h.tokenFor(key)).toMatch(/^ey/);
  });

  it('needs the admin token', async () => {
    const response = await fetch(`${h.sandbox.url}/admin/service-key`);
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('clientsecret');
  });
});

describe('POST /admin/tokens/expire', () => {
  it('answers 404 for an unknown client and changes nothing', async () => {
    const response = await h.admin('/tokens/expire', { method: 'POST', json: { clientId: 'nope' } });
    expect(response.status).toBe(404);
    expect((await json<{ error: { code: string } }>(response)).error.code).toBe('not_found');
    expect((await h.call('/calm-projects/v1/projects')).status).toBe(200);
  });

  it('still expires a known client and, without a body, every client', async () => {
    const { key } = await h.client({ name: 'to expire' });
    expect(
      (await h.admin('/tokens/expire', { method: 'POST', json: { clientId: key.uaa.clientid } })).status,
    ).toBe(200);
    expect((await h.admin('/tokens/expire', { method: 'POST' })).status).toBe(200);
  });
});
