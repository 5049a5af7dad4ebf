import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Environment } from '../src/config/environment.js';
import { whoAnswered } from '../src/egress/answer-origin.js';
import { matchesNoProxy, parseProxyUrl, resolveProxy } from '../src/egress/proxy-config.js';
import { caOption, resolveTrust } from '../src/egress/trust.js';
import { rootCertificates } from 'node:tls';
import { proxyCa } from './egress-fixtures.js';
import { Redactor } from '../src/redact.js';

function envOf(vars: Record<string, string>): Environment {
  return { get: (name) => vars[name], sourceOf: (name) => (name in vars ? 'environment' : undefined) };
}

const API = new URL('https://api.openai.com/v1');

test('NO_PROXY matching follows undici and curl', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'https://api.openai.com/v1', true],
    ['api.openai.com', 'https://api.openai.com/v1', true],
    ['openai.com', 'https://api.openai.com/v1', true],
    ['.openai.com', 'https://api.openai.com/v1', true],
    ['*.openai.com', 'https://api.openai.com/v1', true],
    ['notopenai.com', 'https://api.openai.com/v1', false],
    ['example.com, localhost', 'https://api.openai.com/v1', false],
    ['localhost api.openai.com', 'https://api.openai.com/v1', true],
    ['api.openai.com:443', 'https://api.openai.com/v1', true],
    ['api.openai.com:8443', 'https://api.openai.com/v1', false],
    ['127.0.0.1', 'https://127.0.0.1:9999/v1', true],
    ['127.0.0.1:9999', 'https://127.0.0.1:9999/v1', true],
    ['::1', 'https://[::1]:9999/v1', true],
    ['[::1]:9999', 'https://[::1]:9999/v1', true],
    // curl and undici: `*` counts only as the whole value.
    [' * ', 'https://api.openai.com/v1', true],
    ['example.com,*', 'https://api.openai.com/v1', false],
    ['*, example.com', 'https://api.openai.com/v1', false],
  ];
  for (const [noProxy, url, expected] of cases) assert.equal(matchesNoProxy(new URL(url), noProxy), expected, `${noProxy} vs ${url}`);
});

test('proxy values: scheme-less values mean http://, credentials are masked, odd schemes refused', () => {
  const bare = parseProxyUrl('HTTPS_PROXY', 'proxy:3128');
  assert.equal(bare.url.href, 'http://proxy:3128/');
  const withUser = parseProxyUrl('--proxy', 'user:p%40ss-word@proxy.corp:8080');
  assert.equal(withUser.display, 'http://user:***@proxy.corp:8080');
  // The Redactor main registers --proxy with masks the password as typed and decoded.
  assert.equal(new Redactor().addUrlCredentials('user:p%40ss-word@proxy.corp:8080').apply('p%40ss-word p@ss-word'), '*** ***');
  assert.throws(() => parseProxyUrl('--proxy', 'ftp://proxy:21'), /ftp:\/\/, which bgprobe cannot use/);
  assert.throws(() => parseProxyUrl('--proxy', 'http://:pw@'), (e: Error) => !e.message.includes('pw@'));
});

test('proxy choice: --proxy over the environment, lower case over upper case, NO_PROXY respected', () => {
  assert.equal(resolveProxy(API, undefined, envOf({})).proxy, undefined);
  assert.equal(resolveProxy(API, undefined, envOf({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' })).proxy?.url.host, 'lower:2');
  assert.equal(resolveProxy(API, undefined, envOf({ HTTP_PROXY: 'http://plain:1' })).proxy?.url.host, 'plain:1', 'HTTPS falls back to HTTP_PROXY, as in undici');
  assert.equal(resolveProxy(API, undefined, envOf({ HTTP_PROXY: 'http://plain:1', HTTPS_PROXY: 'http://secure:2' })).proxy?.url.host, 'secure:2');
  assert.equal(resolveProxy(new URL('http://127.0.0.1:5/v1'), undefined, envOf({ HTTPS_PROXY: 'http://secure:2' })).proxy, undefined, 'HTTPS_PROXY is not for http:// URLs');
  assert.equal(resolveProxy(new URL('http://127.0.0.1:5/v1'), undefined, envOf({ HTTP_PROXY: 'http://plain:1' })).proxy?.url.host, 'plain:1');
  const bypassed = resolveProxy(API, undefined, envOf({ HTTPS_PROXY: 'http://p:1', NO_PROXY: '.openai.com' }));
  assert.equal(bypassed.proxy, undefined);
  assert.match(bypassed.explanation, /NO_PROXY matches api\.openai\.com/);
  assert.equal(resolveProxy(API, 'http://flag:3', envOf({ HTTPS_PROXY: 'http://env:1', NO_PROXY: '*' })).proxy?.url.host, 'flag:3');
  // ALL_PROXY as curl reads it: only when no scheme-specific variable is set, and NO_PROXY still applies.
  assert.equal(resolveProxy(API, undefined, envOf({ ALL_PROXY: 'socks5h://s:1080', HTTPS_PROXY: 'http://secure:2' })).proxy?.url.host, 'secure:2');
  const all = resolveProxy(API, undefined, envOf({ all_proxy: 'socks5h://u:pw@s:1080', ALL_PROXY: 'http://upper:1' })).proxy;
  assert.deepEqual([all?.kind, all?.url.protocol, all?.display, all?.source], ['socks5', 'socks5:', 'socks5h://u:***@s:1080', 'all_proxy']);
  assert.equal(resolveProxy(API, undefined, envOf({ ALL_PROXY: 'socks5://s:1080', NO_PROXY: 'openai.com' })).proxy, undefined);
});

test('who answered: the API by its envelope and headers, a proxy by its policy headers, status codes alone decide nothing', () => {
  const envelope = JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  assert.equal(whoAnswered(401, { 'x-request-id': 'req_1' }, envelope).by, 'api');
  assert.equal(whoAnswered(401, { 'x-request-id': 'req_1' }, '').by, 'api');
  assert.equal(whoAnswered(403, { 'x-request-id': '9b2c5a1e-8d4f-4c1a-a0e2-3f1b7c9d2e10' }, 'RBAC: access denied').by, 'other', "Envoy's own x-request-id is not the API's");
  assert.equal(whoAnswered(403, { 'x-request-id': '9b2c5a1e-8d4f-4c1a-a0e2-3f1b7c9d2e10' }, 'RBAC: access denied', true).by, 'proxy', 'with a proxy configured, an unmarked answer is the proxy\'s');
  assert.equal(whoAnswered(403, {}, envelope).by, 'api', "the API's own 403 (unsupported region) is still the API");
  assert.equal(whoAnswered(404, { 'openai-version': '2020-10-01' }, '').by, 'api');
  const method = whoAnswered(403, { 'x-proxy-error': 'blocked-by-method-policy', 'content-type': 'text/plain' }, 'CODEX_NETWORK_POLICY_DECISION {}');
  assert.deepEqual(method, { by: 'proxy', evidence: 'x-proxy-error: blocked-by-method-policy' });
  assert.equal(whoAnswered(403, { server: 'envoy' }, '').evidence, 'server: envoy');
  assert.equal(whoAnswered(405, { 'content-type': 'text/html' }, '<html>Blocked</html>').evidence, 'an HTML page');
  assert.equal(whoAnswered(407, {}, '').by, 'proxy');
  assert.equal(whoAnswered(403, { 'x-proxy-error': 'blocked', 'x-request-id': 'forged' }, envelope).by, 'proxy', 'policy headers outweigh API-looking ones');
  assert.equal(whoAnswered(404, { 'content-type': 'text/plain' }, 'route not found').by, 'other', 'no proxy configured, no marks: another server, not a proxy');
  assert.equal(whoAnswered(502, { via: '1.1 corp-gw' }, 'Bad Gateway').by, 'proxy', 'Via marks a proxy');
  assert.equal(whoAnswered(200, { via: '1.1 corp-gw', 'x-request-id': 'req_abc' }, '{}').by, 'api', "the API's answer passed on by a proxy is still the API's");
});

test('trust: no option keeps Node\'s default store; --ca-file adds to the bundled roots instead of replacing them', () => {
  assert.equal(caOption(resolveTrust(undefined, false, envOf({}), '/'), rootCertificates), undefined, 'no `ca` option at all: Node keeps its store and NODE_EXTRA_CA_CERTS');
  const ca = caOption(resolveTrust(proxyCa.certPath, false, envOf({}), '/'), rootCertificates);
  assert.equal(ca?.length, rootCertificates.length + 1);
  assert.ok(rootCertificates.every((root) => ca?.includes(root)));
  assert.ok(ca?.includes(proxyCa.cert.trim()));
  const both = resolveTrust(proxyCa.certPath, true, envOf({ SSL_CERT_FILE: proxyCa.certPath, NODE_EXTRA_CA_CERTS: proxyCa.certPath }), '/');
  assert.deepEqual(both.extra.map((s) => s.option), ['NODE_EXTRA_CA_CERTS', '--ca-file', '--system-ca']);
  assert.throws(() => resolveTrust(undefined, true, envOf({ SSL_CERT_FILE: '/nonexistent.pem' }), '/'), /--system-ca: \/nonexistent\.pem holds no readable PEM certificate/);
});
