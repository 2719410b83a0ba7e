import { describe, expect, it } from 'vitest';
import { compileMapping, type MappingOptions } from '../compile/compile-mapping.js';
import { buildOperation, composeUrl, mapResponse } from './evaluate.js';
import type { ChangeMessage } from './types.js';

function compile(document: unknown, options?: MappingOptions) {
  const result = compileMapping(document, options);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.mapping;
}

const operations = (...entries: Record<string, unknown>[]) => ({
  eventTypeMapping: { operationMappings: entries },
});

describe('buildOperation', () => {
  const change: ChangeMessage = {
    subscriptionId: 's-1',
    resourceType: 'TASK',
    eventType: 'TASK.CREATED',
    resourceId: 't-1',
    resource: { id: 't-1', title: 'T' },
  };

  it('without a mapping posts the raw change message', () => {
    expect(buildOperation(null, change)).toEqual({
      kind: 'call',
      eventType: 'TASK.CREATED',
      method: 'POST',
      path: '',
      body: change,
    });
  });

  it('GET and DELETE send no body even when a default request template exists', () => {
    const mapping = compile({
      structure: { request: { a: '#{id}' } },
      ...operations(
        { eventType: 'G', operation: 'GET', path: '/#{id}' },
        { eventType: 'D', operation: 'DELETE', path: '/#{id}' },
        { eventType: 'P', operation: 'PUT', path: '/#{id}' },
      ),
    });
    const run = (eventType: string) => buildOperation(mapping, { eventType, resource: { id: 'x' } });
    expect(run('G')).toEqual({ kind: 'call', eventType: 'G', method: 'GET', path: '/x', body: undefined });
    expect(run('D')).toEqual({ kind: 'call', eventType: 'D', method: 'DELETE', path: '/x', body: undefined });
    expect(run('P')).toEqual({ kind: 'call', eventType: 'P', method: 'PUT', path: '/x', body: { a: 'x' } });
  });

  it('a POST without any request template is sent without body', () => {
    const mapping = compile(operations({ eventType: 'E', operation: 'POST' }));
    expect(buildOperation(mapping, { eventType: 'E', resource: {} })).toMatchObject({
      kind: 'call',
      body: undefined,
    });
  });

  it('per-operation overrides replace each side independently', () => {
    const mapping = compile({
      structure: { request: { side: 'default request' }, response: { side: '#{default}' } },
      ...operations(
        { eventType: 'REQ', operation: 'POST', structure: { request: { side: 'own request' } } },
        { eventType: 'RES', operation: 'POST', structure: { response: { side: '#{own}' } } },
        { eventType: 'EMPTY', operation: 'POST', structure: { request: {}, response: {} } },
      ),
    });
    const response = { default: 'D', own: 'O' };
    expect(buildOperation(mapping, { eventType: 'REQ', resource: {} })).toMatchObject({
      body: { side: 'own request' },
    });
    expect(mapResponse(mapping, 'REQ', response)).toMatchObject({ fields: { side: 'D' } });
    expect(buildOperation(mapping, { eventType: 'RES', resource: {} })).toMatchObject({
      body: { side: 'default request' },
    });
    expect(mapResponse(mapping, 'RES', response)).toMatchObject({ fields: { side: 'O' } });
    expect(buildOperation(mapping, { eventType: 'EMPTY', resource: {} })).toMatchObject({ body: {} });
    expect(mapResponse(mapping, 'EMPTY', response)).toMatchObject({ fields: {} });
  });

  it('skips operations that address the external object before an id exists, unless told otherwise', () => {
    const document = operations(
      { eventType: 'A', operation: 'PATCH', path: '/#{@CLOUD_ALM_EXTERNAL_ID}' },
      { eventType: 'B', operation: 'PATCH', path: '/#{externalId}' },
    );
    const guarded = compile(document);
    expect(buildOperation(guarded, { eventType: 'A', resource: {} })).toEqual({
      kind: 'skip',
      eventType: 'A',
      reason: 'NO_EXTERNAL_ID',
      message: 'the PATCH for A addresses the external object, but the link has no external id yet',
    });
    expect(buildOperation(guarded, { eventType: 'B', resource: {} })).toMatchObject({
      kind: 'skip',
      reason: 'NO_EXTERNAL_ID',
    });
    // A resource field of that name is an explicit id and is used as such.
    expect(buildOperation(guarded, { eventType: 'B', resource: { externalId: 'R' } })).toMatchObject({
      path: '/R',
    });
    const unguarded = compile(document, { skipWhenExternalIdMissing: false });
    expect(buildOperation(unguarded, { eventType: 'A', resource: {} })).toMatchObject({
      kind: 'call',
      path: '/',
    });
  });

  it('storedFieldFallback: false reads only the context object', () => {
    const document = {
      structure: { request: { n: '#{externalNumber}' } },
      ...operations({ eventType: 'E', operation: 'POST' }),
    };
    const link = { fields: { externalNumber: 'INC1' } };
    expect(buildOperation(compile(document), { eventType: 'E', resource: {} }, { link })).toMatchObject({
      body: { n: 'INC1' },
    });
    expect(
      buildOperation(
        compile(document, { storedFieldFallback: false }),
        { eventType: 'E', resource: {} },
        { link },
      ),
    ).toMatchObject({ body: { n: null } });
  });

  it('tolerates malformed change messages', () => {
    const mapping = compile({
      structure: { request: { a: '#{a}' } },
      ...operations({ eventType: 'E', operation: 'POST' }),
    });
    expect(buildOperation(mapping, {} as ChangeMessage)).toMatchObject({
      kind: 'skip',
      reason: 'NO_OPERATION',
      eventType: '',
    });
    expect(buildOperation(mapping, { eventType: 'E' })).toMatchObject({ body: { a: null } });
    expect(buildOperation(mapping, { eventType: 'E', resource: null })).toMatchObject({ body: { a: null } });
  });
});

describe('mapResponse', () => {
  it('responseRoot accepts a dot path (with array indexes) or a JSON Pointer', () => {
    const document = (responseRoot: string) =>
      compile({
        structure: { response: { externalNumber: '#{number}' } },
        ...operations({ eventType: 'E', operation: 'POST', responseRoot, externalIdProperty: '/sys_id' }),
      });
    const body = { result: [{ sys_id: 'a', number: 'INC1' }], 'we/ird': { sys_id: 'b', number: 'INC2' } };
    expect(mapResponse(document('result.0'), 'E', body)).toMatchObject({
      fields: { externalNumber: 'INC1' },
      externalId: 'a',
    });
    expect(mapResponse(document('/result/0'), 'E', body)).toMatchObject({
      fields: { externalNumber: 'INC1' },
      externalId: 'a',
    });
    expect(mapResponse(document('/we~1ird'), 'E', body)).toMatchObject({
      fields: { externalNumber: 'INC2' },
      externalId: 'b',
    });
    expect(mapResponse(document('nope'), 'E', body)).toMatchObject({
      fields: { externalNumber: null },
      externalId: null,
    });
  });

  it('external id fallbacks: pointer, then mapped externalId, then externalResourceId, then the stored id', () => {
    const mapping = compile({
      structure: { response: { externalId: '#{key}', externalResourceId: '#{wf}' } },
      ...operations(
        { eventType: 'P', operation: 'POST', externalIdProperty: '/id' },
        { eventType: 'N', operation: 'POST' },
      ),
    });
    const link = { externalId: 'stored' };
    expect(mapResponse(mapping, 'P', { id: 'ptr', key: 'k', wf: 'w' }, { link })).toMatchObject({
      externalId: 'ptr',
    });
    expect(mapResponse(mapping, 'P', { key: 'k', wf: 'w' }, { link })).toMatchObject({ externalId: 'k' });
    expect(mapResponse(mapping, 'N', { key: 'k', wf: 'w' }, { link })).toMatchObject({ externalId: 'k' });
    expect(mapResponse(mapping, 'N', { key: '', wf: 'w' }, { link })).toMatchObject({ externalId: 'w' });
    expect(mapResponse(mapping, 'N', {}, { link })).toMatchObject({ externalId: 'stored' });
    expect(mapResponse(mapping, 'N', {})).toMatchObject({ externalId: null });
    expect(mapResponse(mapping, 'P', { id: { nested: 1 } })).toMatchObject({ externalId: null });
  });

  it('externalIdProperty "" takes the whole root, e.g. a bare id response', () => {
    const mapping = compile(operations({ eventType: 'E', operation: 'POST', externalIdProperty: '' }));
    expect(mapResponse(mapping, 'E', 'id-as-body')).toMatchObject({ externalId: 'id-as-body', fields: {} });
    expect(mapResponse(mapping, 'E', 12)).toMatchObject({ externalId: '12' });
  });

  it('merges the mapped fields into the stored link fields', () => {
    const mapping = compile({
      structure: { response: { externalStatus: '#{state}' } },
      ...operations({ eventType: 'E', operation: 'GET' }),
    });
    const link = { externalId: 'X', fields: { externalNumber: 'INC1', externalStatus: 'NEW' } };
    expect(mapResponse(mapping, 'E', { state: 'CLOSED' }, { link })).toEqual({
      kind: 'mapped',
      eventType: 'E',
      fields: { externalStatus: 'CLOSED' },
      externalId: 'X',
      link: { externalId: 'X', fields: { externalNumber: 'INC1', externalStatus: 'CLOSED' } },
    });
    expect(link.fields.externalStatus).toBe('NEW');
  });

  it('unknown event types map nothing; without a mapping the stored state is kept', () => {
    const mapping = compile(operations({ eventType: 'E', operation: 'POST' }));
    expect(mapResponse(mapping, 'OTHER', {})).toMatchObject({ kind: 'skip', reason: 'NO_OPERATION' });
    expect(mapResponse(null, 'E', { id: 1 }, { link: { externalId: 'X', fields: { a: 1 } } })).toEqual({
      kind: 'mapped',
      eventType: 'E',
      fields: {},
      externalId: 'X',
      link: { externalId: 'X', fields: { a: 1 } },
    });
  });
});

describe('compileMapping', () => {
  const document = {
    structure: { request: { a: '#{a}' } },
    ...operations({ eventType: 'E', operation: 'POST' }),
  };

  it('caches per mapping object and per JSON text, separately per options', () => {
    const first = compileMapping(document);
    expect(compileMapping(document)).toBe(first);
    expect(compileMapping(document, { storedFieldFallback: false })).not.toBe(first);
    const text = JSON.stringify(document);
    expect(compileMapping(text)).toBe(compileMapping(text));
    expect(compileMapping(text)).not.toBe(first);
  });

  it('returns the issues instead of throwing for invalid input', () => {
    expect(compileMapping('{')).toMatchObject({ ok: false, issues: [{ severity: 'error', pointer: '' }] });
    expect(compileMapping(undefined)).toMatchObject({ ok: false });
    expect(compileMapping(7)).toMatchObject({ ok: false });
  });

  it('exposes format, information, event types and warnings', () => {
    const compiled = compileMapping({
      _information: { _version: '2', _name: 'N' },
      ...operations(
        { eventType: 'A', operation: 'GET' },
        { eventType: 'B', operation: 'POST', structure: { request: {} } },
      ),
    });
    if (!compiled.ok) throw new Error('expected a valid mapping');
    expect(compiled.mapping.format).toBe('payload-based');
    expect(compiled.mapping.information).toEqual({ _version: '2', _name: 'N' });
    expect(compiled.mapping.eventTypes).toEqual(['A', 'B']);
    expect(compiled.mapping.warnings).toEqual([]);
  });

  it('ruleBasedBareFieldNames reads bare rule values as field paths', () => {
    const ruleBased = {
      request: { short_description: 'subject', fixed: 'literal text', nested: 'a.b', typed: 3 },
      ...operations({ eventType: 'E', operation: 'POST' }),
    };
    const resource = { subject: 'S', literal: 'no', a: { b: 'deep' } };
    expect(buildOperation(compile(ruleBased), { eventType: 'E', resource })).toMatchObject({
      body: { short_description: 'subject', fixed: 'literal text', nested: 'a.b', typed: 3 },
    });
    expect(
      buildOperation(compile(ruleBased, { ruleBasedBareFieldNames: true }), { eventType: 'E', resource }),
    ).toMatchObject({
      body: { short_description: 'S', fixed: 'literal text', nested: 'deep', typed: 3 },
    });
  });
});

describe('composeUrl', () => {
  it('concatenates destination URL, webhook path and operation path without normalising slashes', () => {
    expect(composeUrl('https://acme.service-now.com', '/api/now/table/incident', '/abc')).toBe(
      'https://acme.service-now.com/api/now/table/incident/abc',
    );
    expect(composeUrl('https://x/', undefined, '/y')).toBe('https://x//y');
  });
});
