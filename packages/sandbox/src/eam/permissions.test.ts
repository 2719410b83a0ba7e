import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-fixtures/harness.js';

describe('External API Management permissions for technical clients', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  const asClient = (token: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${h.sandbox.url}/admin${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    });

  it('puts the permissions into the token like any other scope', async () => {
    const { token } = await h.client({ scopes: ['eam.access', 'eam.subscriptions.read'] });
    const scopes = decodeJwt(token).scope as string[];
    expect(scopes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\.eam\.access$/),
        expect.stringMatching(/\.eam\.subscriptions\.read$/),
      ]),
    );
  });

  it('lets a client view what it may view and nothing more', async () => {
    const { token } = await h.client({
      scopes: ['eam.access', 'eam.subscriptions.read', 'eam.console.read'],
    });
    expect((await asClient(token, '/eam/subscriptions')).status).toBe(200);
    expect((await asClient(token, '/eam/console/attempts')).status).toBe(200);

    const create = await asClient(token, '/eam/subscriptions', { method: 'POST', json: { name: 'x' } });
    expect(create.status).toBe(403);
    expect((await create.json()).error).toMatchObject({
      code: 'forbidden',
      message: 'Missing External API Management permission eam.subscriptions.write',
    });
    expect((await asClient(token, '/eam/webhooks')).status).toBe(403);
    expect((await asClient(token, '/eam/mappings')).status).toBe(403);
    // Destinations belong to the BTP subaccount and settings to the sandbox: admin token only.
    expect((await (await asClient(token, '/eam/destinations')).json()).error.message).toBe(
      'This operation requires the admin token',
    );
    expect((await asClient(token, '/eam/settings')).status).toBe(403);
    // The core admin API is not part of the External API Management app.
    expect((await asClient(token, '/clients')).status).toBe(401);
  });

  it('lets a client with the edit permission change webhooks, validated as for the admin', async () => {
    const { token } = await h.client({ scopes: ['eam.access', 'eam.webhooks.read', 'eam.webhooks.write'] });
    const invalid = await asClient(token, '/eam/webhooks', { method: 'POST', json: {} });
    expect(invalid.status).toBe(400);
    expect((await asClient(token, '/eam/webhooks')).status).toBe(200);
  });

  it('refuses a client without access to the app, and a bad token', async () => {
    const { token } = await h.client({ scopes: ['eam.subscriptions.read'] });
    const refused = await asClient(token, '/eam/subscriptions');
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toBe(
      'Missing External API Management permission eam.access',
    );
    expect((await asClient('not-a-token', '/eam/subscriptions')).status).toBe(401);
    expect((await fetch(`${h.sandbox.url}/admin/eam/subscriptions`)).status).toBe(401);
  });

  it('still lets the admin token do everything', async () => {
    expect((await h.admin('/eam/destinations')).status).toBe(200);
    expect((await h.admin('/eam/subscriptions')).status).toBe(200);
  });
});
