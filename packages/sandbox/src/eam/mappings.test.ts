// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${SWITCH(...)} is mapping syntax, not a template literal.

import { validateMapping } from '@calmhub/mapping';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { BUILT_IN_MAPPINGS } from './builtin/index.js';
import type { Mapping, MappingVersion } from './mappings.js';

describe('mappings management', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  it('ships the built-in ServiceNow mappings, read-only', async () => {
    const all = await json<Mapping[]>(await h.admin('/eam/mappings'));
    expect(all.filter((m) => m.builtIn).map((m) => m.name)).toEqual([
      'Event Situation to ServiceNow Incident',
      'Task to ServiceNow Incident',
    ]);
    for (const shipped of BUILT_IN_MAPPINGS) expect(validateMapping(shipped.content).issues).toEqual([]);
    const builtIn = all[0] as Mapping;
    const events = (builtIn.content as { eventTypeMapping: { operationMappings: { eventType: string }[] } })
      .eventTypeMapping.operationMappings;
    expect(events.map((o) => o.eventType)).toEqual([
      'EVENT-SITUATION.CREATED',
      'EVENT-SITUATION.UPDATED',
      'EVENT-SITUATION.CLOSED',
      'EVENT-SITUATION.PING',
    ]);
    expect(
      (await h.admin(`/eam/mappings/${builtIn.id}`, { method: 'PUT', json: { name: 'x' } })).status,
    ).toBe(409);
    expect((await h.admin(`/eam/mappings/${builtIn.id}`, { method: 'DELETE' })).status).toBe(409);
  });

  it('validates on save with located errors and keeps a version per change', async () => {
    const broken = await h.admin('/eam/mappings', {
      method: 'POST',
      json: {
        name: 'Broken',
        content: {
          switches: [{ name: 'switchUrgency', cases: [], default: '3' }],
          structure: { request: { urgency: '${SWITCH(SwitchUrgency,rating)}' }, response: {} },
          eventTypeMapping: { operationMappings: [{ eventType: 'TASK.CREATED', operation: 'post' }] },
        },
      },
    });
    expect(broken.status).toBe(400);
    const body = await json<{ error: { code: string; details: { pointer: string; severity: string }[] } }>(
      broken,
    );
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.filter((d) => d.severity === 'error').map((d) => d.pointer)).toEqual(
      expect.arrayContaining([
        '/structure/request/urgency',
        '/eventTypeMapping/operationMappings/0/operation',
      ]),
    );
    const text = await h.admin('/eam/mappings', {
      method: 'POST',
      json: { name: 'Bad JSON', content: '{"structure": ' },
    });
    expect(text.status).toBe(400);
    expect(JSON.stringify(await text.json())).toContain('"line"');

    const content = {
      structure: { request: { title: '#{title}' }, response: { externalId: '#{id}' } },
      eventTypeMapping: {
        operationMappings: [{ eventType: 'TASK.CREATED', operation: 'POST', externalIdProperty: '/id' }],
      },
    };
    const created = await h.admin('/eam/mappings', { method: 'POST', json: { name: 'Tasks', content } });
    expect(created.status).toBe(201);
    const mapping = await json<Mapping>(created);
    expect(mapping).toMatchObject({ version: 1, format: 'payload-based', builtIn: false });
    const changed = await h.admin(`/eam/mappings/${mapping.id}`, {
      method: 'PUT',
      json: { content: { ...content, structure: { request: { summary: '#{title}' }, response: {} } } },
    });
    expect(changed.status).toBe(200);
    expect((await json<Mapping>(changed)).version).toBe(2);
    const versions = await json<MappingVersion[]>(await h.admin(`/eam/mappings/${mapping.id}/versions`));
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    expect(JSON.stringify(versions[1]?.content)).toContain('"title":"#{title}"');
    expect(
      (await h.admin(`/eam/mappings/${mapping.id}`, { method: 'PUT', json: { content: { structure: 5 } } }))
        .status,
    ).toBe(400);
    expect((await json<Mapping>(await h.admin(`/eam/mappings/${mapping.id}`))).version).toBe(2);
  });
});
