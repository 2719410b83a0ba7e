import { describe, expect, it } from 'vitest';
import { isSecretName, redactHeaders, redactOutboundUrl, redactRequestUrl } from './redact.js';

describe('redactRequestUrl (incoming requests, for logs)', () => {
  it.each([
    ['/oauth/token?client_secret=abc', '/oauth/token?client_secret=[REDACTED]'],
    ['/oauth/token?client%5Fsecret=abc', '/oauth/token?client%5Fsecret=[REDACTED]'],
    ['/oauth/token?client%5fsecret=abc', '/oauth/token?client%5fsecret=[REDACTED]'],
    ['/hook?secret%4Bey=abc', '/hook?secret%4Bey=[REDACTED]'],
    ['/hook?%73ecretKey=abc', '/hook?%73ecretKey=[REDACTED]'],
    ['/hook?SECRETKEY=abc', '/hook?SECRETKEY=[REDACTED]'],
    ['/hook?Client+Secret=abc', '/hook?Client+Secret=[REDACTED]'],
    ['/hook?client-secret=abc', '/hook?client-secret=[REDACTED]'],
    ['/hook?client_secret[]=abc', '/hook?client_secret[]=[REDACTED]'],
    // Double encoding does not hide the name.
    ['/hook?client%255Fsecret=abc', '/hook?client%255Fsecret=[REDACTED]'],
    ['/hook?access_token=abc&refresh_token=def', '/hook?access_token=[REDACTED]&refresh_token=[REDACTED]'],
    ['/login?password=abc&user=anna', '/login?password=[REDACTED]&user=anna'],
    ['/hook?api_key=abc&apiKey=def&sig=ghi', '/hook?api_key=[REDACTED]&apiKey=[REDACTED]&sig=[REDACTED]'],
    // An `=` encoded into the name does not hide the value either.
    ['/hook?client_secret%3Dabc', '/hook?[REDACTED]'],
    // Repeated parameters are all masked.
    ['/hook?secret=a&secret=b', '/hook?secret=[REDACTED]&secret=[REDACTED]'],
  ])('%s', (url, expected) => {
    expect(redactRequestUrl(url)).toBe(expected);
  });

  it('leaves other parameters and the path byte for byte', () => {
    const url = '/calm-tasks/v1/tasks?projectId=p%201&$top=10&q=a+b&flag&x=1=2#frag';
    expect(redactRequestUrl(url)).toBe(url);
    expect(redactRequestUrl('/healthz')).toBe('/healthz');
    expect(redactRequestUrl('/bad?%E0%A4%A=1&token=%ZZ')).toBe('/bad?%E0%A4%A=1&token=[REDACTED]');
  });

  it('masks userinfo of an absolute-form request target', () => {
    expect(redactRequestUrl('http://anna:pw@host/x?token=t')).toBe(
      'http://[REDACTED]:[REDACTED]@host/x?token=[REDACTED]',
    );
  });
});

describe('redactOutboundUrl (calls to remote systems, for logs and consoles)', () => {
  it('masks every query value and keeps the names', () => {
    expect(redactOutboundUrl('https://x.example/base/hook?sysparm_input_display_value=true&api_key=k1')).toBe(
      'https://x.example/base/hook?sysparm_input_display_value=***&api_key=***',
    );
    expect(redactOutboundUrl('https://x.example/a?tenant=acme&tenant=b&bare')).toBe(
      'https://x.example/a?tenant=***&tenant=***&***',
    );
  });

  it('masks userinfo and fragments', () => {
    expect(redactOutboundUrl('https://user:p%40ss@x.example:8443/path')).toBe(
      'https://***:***@x.example:8443/path',
    );
    expect(redactOutboundUrl('https://token@x.example/path')).toBe('https://***@x.example/path');
    expect(redactOutboundUrl('https://x.example/cb#access_token=abc')).toBe('https://x.example/cb#***');
  });

  it('leaves a URL without credentials alone, even an unparsable one', () => {
    expect(redactOutboundUrl('https://x.example/path/to')).toBe('https://x.example/path/to');
    expect(redactOutboundUrl('not a url?k=v')).toBe('not a url?k=***');
  });
});

describe('redactHeaders', () => {
  it('keeps the scheme of credential headers only', () => {
    expect(
      redactHeaders({
        authorization: 'Bearer eyJabc',
        'Proxy-Authorization': 'Basic dXNlcjpwdw==',
        'x-api-key': 'k',
        'x-csrf-token': 't',
        cookie: 'sid=1',
        'x-client-secret': 's',
        'content-type': 'application/json',
        accept: ['a', 'b'],
        skipped: undefined,
      }),
    ).toEqual({
      authorization: 'Bearer ***',
      'Proxy-Authorization': 'Basic ***',
      'x-api-key': '***',
      'x-csrf-token': '***',
      cookie: '***',
      'x-client-secret': '***',
      'content-type': 'application/json',
      accept: 'a, b',
    });
  });
});

describe('isSecretName', () => {
  it.each([
    'secretKey',
    'client_secret',
    'Password',
    'passwd',
    'pwd',
    'access_token',
    'apikey',
    'key',
    'x-signature',
  ])('%s is secret', (name) => expect(isSecretName(name)).toBe(true));
  it.each(['projectId', '$top', 'filter', 'user', 'author', 'state', 'keyword'])('%s is not', (name) =>
    expect(isSecretName(name)).toBe(false),
  );
});

describe('names that only mention a secret', () => {
  it('keeps ids and token URLs readable', () => {
    expect(redactRequestUrl('/api/v1/projects/p/calm-projects?credentialId=abc&tokenUrl=x&token=t')).toBe(
      '/api/v1/projects/p/calm-projects?credentialId=abc&tokenUrl=x&token=[REDACTED]',
    );
  });
});
