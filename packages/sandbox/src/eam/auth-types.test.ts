import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import type { ConsoleAttempt } from './console.js';
import {
  createTestPki,
  eventually,
  type Receiver,
  startReceiver,
  startTlsReceiver,
  type TestPki,
} from './test-fixtures/receiver.js';

/**
 * Each destination authentication type against a receiver that checks it. Event-situation
 * subscriptions without a mapping send the raw change message, so opening a situation bound to
 * the subscription is the trigger.
 */
describe('destination authentication types', () => {
  let h: Harness;
  let pki: TestPki;
  const receivers: Receiver[] = [];

  async function created<T = Record<string, unknown>>(response: Response): Promise<T> {
    expect(response.status, await response.clone().text()).toBe(201);
    return json<T>(response);
  }

  /** Destination -> webhook -> subscription; returns the subscription id. */
  async function wire(name: string, destination: Record<string, string>, path = '/hook'): Promise<string> {
    await created(
      await h.admin('/eam/destinations', {
        method: 'POST',
        json: { Name: name, Type: 'HTTP', ...destination },
      }),
    );
    const webhook = await created(
      await h.admin('/eam/webhooks', { method: 'POST', json: { name, destinationName: name, path } }),
    );
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: { name, resourceType: 'EVENT-SITUATION', webhookId: webhook.id },
      }),
    );
    return subscription.id as string;
  }

  async function open(subscriptionId: string, subject = 'Test situation'): Promise<string> {
    const situation = await created(
      await h.admin('/situations', {
        method: 'POST',
        json: { subject, rating: 'WARNING', subscriptionIds: [subscriptionId] },
      }),
    );
    return situation.id as string;
  }

  async function attemptsOf(subscriptionId: string): Promise<ConsoleAttempt[]> {
    return json<ConsoleAttempt[]>(await h.admin(`/eam/console/attempts?subscriptionId=${subscriptionId}`));
  }

  beforeAll(async () => {
    h = await startHarness();
    pki = createTestPki();
  });
  afterAll(async () => {
    await h?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    pki?.cleanup();
  });

  it('BasicAuthentication, also non-preemptive (answering the 401 challenge)', async () => {
    const expected = `Basic ${Buffer.from('user@example.com:pa:ss').toString('base64')}`;
    const receiver = await startReceiver((request) =>
      request.headers.authorization === expected
        ? { status: 200, body: {} }
        : { status: 401, headers: { 'www-authenticate': 'Basic realm="test"' }, body: {} },
    );
    receivers.push(receiver);
    const subscription = await wire('BASIC_LAZY', {
      URL: receiver.url,
      Authentication: 'BasicAuthentication',
      User: 'user@example.com',
      Password: 'pa:ss',
      Preemptive: 'false',
    });
    await open(subscription);
    await eventually(() => receiver.received.length === 2, 10_000, 'challenge and answer');
    expect(receiver.received[0]?.headers.authorization).toBeUndefined();
    expect(receiver.received[1]?.headers.authorization).toBe(expected);
    const attempts = await eventually(async () => {
      const all = await attemptsOf(subscription);
      return all.length === 1 ? all : undefined;
    });
    expect(attempts[0]).toMatchObject({ outcome: 'SUCCESS', requestHeaders: { authorization: 'Basic ***' } });
  });

  it('OAuth2ClientCredentials: one token request for concurrent deliveries, renewed before expiry', async () => {
    let issued = 0;
    const tokens = await startReceiver((request) => {
      const form = new URLSearchParams(request.body);
      if (
        form.get('grant_type') !== 'client_credentials' ||
        form.get('client_id') !== 'cid' ||
        form.get('client_secret') !== 'c$ecret='
      )
        return { status: 401, body: { error: 'invalid_client' } };
      issued++;
      // 2 s lifetime: renewed after 90 % of it.
      return {
        status: 200,
        body: {
          access_token: `token-${issued}`,
          token_type: 'bearer',
          expires_in: 2,
          scope: form.get('scope'),
        },
      };
    });
    const api = await startReceiver((request) =>
      /^Bearer token-\d+$/.test(String(request.headers.authorization))
        ? { status: 200, body: {} }
        : { status: 401, body: {} },
    );
    receivers.push(tokens, api);
    const subscription = await wire('OAUTH', {
      URL: api.url,
      Authentication: 'OAuth2ClientCredentials',
      clientId: 'cid',
      clientSecret: 'c$ecret=',
      tokenServiceURL: `${tokens.url}/oauth/token`,
      scope: 'write',
    });
    await Promise.all([1, 2, 3, 4, 5].map((n) => open(subscription, `situation ${n}`)));
    await eventually(() => api.received.length === 5, 10_000, 'five calls');
    expect(issued).toBe(1);
    expect(new URLSearchParams(tokens.received[0]?.body).get('scope')).toBe('write');
    expect(api.received.every((r) => r.headers.authorization === 'Bearer token-1')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await open(subscription, 'after expiry');
    await eventually(() => api.received.length === 6, 10_000, 'the sixth call');
    expect(issued).toBe(2);
    expect(api.received[5]?.headers.authorization).toBe('Bearer token-2');
  });

  it('ClientCertificateAuthentication presents the client certificate to a TLS receiver that requires it', async () => {
    const receiver = await startTlsReceiver(pki);
    receivers.push(receiver);
    await created(
      await h.admin('/eam/certificates', {
        method: 'POST',
        json: { name: 'client.pem', content: `${pki.clientCert}${pki.clientKey}` },
      }),
    );
    await created(
      await h.admin('/eam/certificates', { method: 'POST', json: { name: 'ca.pem', content: pki.ca } }),
    );
    const certificates = await json<{ name: string; kind: string }[]>(await h.admin('/eam/certificates'));
    expect(certificates.map((c) => [c.name, c.kind])).toEqual([
      ['ca.pem', 'TRUSTSTORE'],
      ['client.pem', 'KEYSTORE'],
    ]);
    expect(JSON.stringify(certificates)).not.toContain('PRIVATE KEY');

    const subscription = await wire('MTLS', {
      URL: receiver.url,
      Authentication: 'ClientCertificateAuthentication',
      KeyStoreLocation: 'client.pem',
      TrustStoreLocation: 'ca.pem',
    });
    await open(subscription);
    await eventually(() => receiver.received.length === 1, 10_000, 'the mTLS call');
    expect(receiver.received[0]?.clientCn).toBe('calm-sandbox-client');
    expect(receiver.received[0]?.headers.authorization).toBeUndefined();

    // Without the key store the TLS server refuses the handshake: a connectivity error, retried.
    const anonymous = await wire('TLS_NO_CERT', {
      URL: receiver.url,
      Authentication: 'NoAuthentication',
      TrustStoreLocation: 'ca.pem',
    });
    await open(anonymous);
    const attempts = await eventually(async () => {
      const all = await attemptsOf(anonymous);
      return all.length > 0 ? all : undefined;
    });
    expect(attempts[0]?.outcome).toBe('CONNECTIVITY_ERROR');
    expect(receiver.received).toHaveLength(1);
    expect(
      (
        await h.admin('/eam/destinations', {
          method: 'POST',
          json: {
            Name: 'MTLS_HTTP',
            URL: 'http://127.0.0.1:1',
            Authentication: 'ClientCertificateAuthentication',
            KeyStoreLocation: 'client.pem',
          },
        })
      ).status,
    ).toBe(400);
  });

  it('NoAuthentication with URL.headers.* and URL.queries.*', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const response = await h.admin('/eam/destinations', {
      method: 'POST',
      json: {
        Name: 'OPEN',
        URL: `${receiver.url}/base`,
        Authentication: 'NoAuthentication',
        'URL.headers.X-Tenant': 'acme',
        'URL.queries.sysparm_input_display_value': 'true',
        'URL.queries.api_key': 'k1',
      },
    });
    const destination = await created(response);
    expect(destination.warnings).toEqual([expect.stringContaining('NoAuthentication')]);
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: { name: 'OPEN', destinationName: 'OPEN', path: '/hook' },
      }),
    );
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: { name: 'OPEN', resourceType: 'EVENT-SITUATION', webhookId: webhook.id },
      }),
    );
    await open(subscription.id as string);
    await eventually(() => receiver.received.length === 1, 10_000, 'the call');
    const call = receiver.received[0];
    expect(call?.url).toBe('/base/hook?sysparm_input_display_value=true&api_key=k1');
    expect(call?.headers['x-tenant']).toBe('acme');
    expect(call?.headers.authorization).toBeUndefined();
    expect(call?.json).toMatchObject({
      resourceType: 'EVENT-SITUATION',
      eventType: 'EVENT-SITUATION.CREATED',
    });
    const attempts = await eventually(async () => {
      const all = await attemptsOf(subscription.id as string);
      return all.length === 1 ? all : undefined;
    });
    // Every query value is redacted in the console (destination queries may carry credentials).
    expect(attempts[0]?.url).toBe(`${receiver.url}/base/hook?sysparm_input_display_value=***&api_key=***`);
  });
});
