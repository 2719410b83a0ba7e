import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import type { EamTables } from './tables.js';

describe('destination headers, query parameters and custom properties are secrets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const stored = async (name: string) => {
    const db = h.sandbox.context.store.db.withTables<EamTables>();
    const row = await db
      .selectFrom('eam_destinations')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    const sealed = h.sandbox.context.secrets.open(row.secrets_sealed);
    return { properties: row.properties, raw: JSON.stringify(row), secrets: JSON.parse(sealed ?? '{}') };
  };

  it('seals them at rest and leaves them out of every answer; a PUT keeps or removes them', async () => {
    const destination = {
      Name: 'KEYED',
      URL: 'https://receiver.example/api',
      Authentication: 'OAuth2ClientCredentials',
      clientId: 'client-1',
      clientSecret: 'named-secret-1',
      tokenServiceURL: 'https://receiver.example/oauth/token',
      'URL.headers.X-Api-Key': 'header-secret-2',
      'URL.queries.api_key': 'query-secret-3',
      'tokenServiceURL.headers.X-Tenant': 'token-header-secret-4',
      'sap-client': 'custom-secret-5',
    };
    const created = await h.admin('/eam/destinations', { method: 'POST', json: destination });
    expect(created.status, await created.clone().text()).toBe(201);
    const answers = [
      await created.text(),
      await (await h.admin('/eam/destinations/KEYED')).text(),
      await (await h.admin('/eam/destinations')).text(),
    ];
    for (const answer of answers) {
      expect(answer).toContain('client-1');
      for (const hidden of [
        'secret-1',
        'secret-2',
        'secret-3',
        'secret-4',
        'secret-5',
        'X-Api-Key',
        'sap-client',
      ])
        expect(answer).not.toContain(hidden);
    }
    const atRest = await stored('KEYED');
    for (const hidden of ['secret-1', 'secret-2', 'secret-3', 'secret-4', 'secret-5'])
      expect(atRest.raw).not.toContain(hidden);
    expect(atRest.secrets).toMatchObject({
      clientSecret: 'named-secret-1',
      'URL.headers.X-Api-Key': 'header-secret-2',
      'URL.queries.api_key': 'query-secret-3',
      'tokenServiceURL.headers.X-Tenant': 'token-header-secret-4',
      'sap-client': 'custom-secret-5',
    });

    // A PUT that leaves them out keeps them (as for named secrets); an empty value removes one.
    const { clientSecret: _s, ...rest } = destination;
    const kept = Object.fromEntries(
      Object.entries(rest).filter(([key]) => !key.includes('.') && key !== 'sap-client'),
    );
    const updated = await h.admin('/eam/destinations/KEYED', {
      method: 'PUT',
      json: { ...kept, Description: 'changed', 'URL.queries.api_key': '' },
    });
    expect(updated.status, await updated.clone().text()).toBe(200);
    const after = await stored('KEYED');
    expect(after.secrets).toEqual({
      clientSecret: 'named-secret-1',
      'URL.headers.X-Api-Key': 'header-secret-2',
      'tokenServiceURL.headers.X-Tenant': 'token-header-secret-4',
      'sap-client': 'custom-secret-5',
    });
    expect(await json(await h.admin('/eam/destinations/KEYED'))).toMatchObject({ Description: 'changed' });
  });
});
