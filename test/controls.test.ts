import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONTROLS, controlLine, HARDEN_RUNNER_SINKHOLE, isUnconfirmed, recognizeControl, type Observation } from '../src/egress/controls.js';
import { ROOT } from './helpers.js';

const API = { host: 'api.openai.com', port: 443 };

/**
 * What each control answered, as recorded (or, where marked in the table, as reported). The
 * ones that need an address outside loopback (the sinkhole, a firewall's REJECT) can only be
 * tested this way: bgprobe and its tests never connect off the machine.
 */
const RECORDED: readonly (readonly [string, Observation, RegExp])[] = [
  ['codex_sandbox_allowlist', { stage: 'connect', status: 403, headers: { 'x-proxy-error': 'blocked-by-allowlist', 'content-type': 'text/plain' }, body: 'CODEX_NETWORK_POLICY_DECISION {"decision":"deny"}' }, /allowed_domains.*~\/\.codex\/config\.toml/],
  ['codex_sandbox_denylist', { stage: 'connect', status: 403, headers: { 'x-proxy-error': 'blocked-by-denylist' } }, /denied_domains/],
  ['codex_sandbox_method', { stage: 'http', status: 403, method: 'POST', headers: { 'x-proxy-error': 'blocked-by-method-policy' }, answeredBy: 'proxy' }, /mode = "full"/],
  ['codex_sandbox_mitm_required', { stage: 'connect', status: 403, headers: { 'x-proxy-error': 'blocked-by-mitm-required' } }, /mode = "full"/],
  ['codex_sandbox_policy', { stage: 'connect', status: 403, headers: { 'x-proxy-error': 'blocked-by-policy' } }, /\/blocked/],
  ['envoy_connect_refused', { stage: 'connect', status: 403, headers: { server: 'envoy' } }, /Codex cloud: turn the environment's agent internet access On and add api\.openai\.com/],
  ['methods_get_only', { stage: 'http', status: 403, method: 'POST', answeredBy: 'proxy', getReachedApi: true, headers: {} }, /^Codex cloud: set the environment's allowed HTTP methods to All, or allow POST to api\.openai\.com$/],
  ['squid_denied', { stage: 'connect', status: 403, headers: { server: 'squid/5.7', 'x-squid-error': 'ERR_ACCESS_DENIED 0' } }, /policy --for squid/],
  ['harden_runner_sinkhole', { stage: 'dns', resolvedAddress: HARDEN_RUNNER_SINKHOLE }, /allowed-endpoints.*policy --for harden-runner/],
  ['host_firewall', { stage: 'tcp', errorCode: 'EHOSTUNREACH', proxyKind: 'none' }, /addresses rotate/],
  ['host_firewall', { stage: 'tcp', errorCode: 'ENETUNREACH' }, /policy --for devcontainer/],
  ['host_firewall', { stage: 'tcp', errorCode: 'EACCES' }, /allowed domains/],
  ['socks_ruleset', { stage: 'socks', status: 2, proxyKind: 'socks' }, /SOCKS proxy's rules/],
  ['socks_ruleset', { stage: 'socks', errorCode: 'UND_ERR_SOCKS5_REPLY_2', proxyKind: 'socks' }, /api\.openai\.com:443/],
  ['silent_tunnel', { stage: 'tls', errorCode: 'ETIMEDOUT', proxyKind: 'http' }, /network allowlist/],
  ['tls_interception', { stage: 'tls', errorCode: 'SELF_SIGNED_CERT_IN_CHAIN', certificateIssuer: 'Zscaler Inc.' }, /^trust Zscaler's root CA: --ca-file/],
  ['cloudflare_challenge', { stage: 'http', status: 403, headers: { 'cf-mitigated': 'challenge', server: 'cloudflare', 'cf-ray': '8f00-LHR' }, answeredBy: 'proxy' }, /cf-ray 8f00-LHR/],
  ['cloudflare_challenge', { stage: 'http', status: 403, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><head><title>Just a moment...</title>' }, /browser check/],
];

test('each egress control is named from what it answered, with the fix in its own terms', () => {
  for (const [cause, observation, fix] of RECORDED) {
    const match = recognizeControl(observation, API);
    assert.ok(match, `${cause}: ${JSON.stringify(observation)}`);
    assert.equal(match.cause, cause, JSON.stringify(observation));
    assert.match(match.fix, fix, cause);
  }
  // Every row of the table is exercised above.
  assert.deepEqual(new Set(RECORDED.map(([cause]) => cause)), new Set(CONTROLS.map((row) => row.cause)));
});

test('a tunnel that opened and stayed silent names the sandbox proxy only as a possible cause, beside a slow upstream', () => {
  const match = recognizeControl({ stage: 'tls', errorCode: 'ETIMEDOUT', proxyKind: 'http', waitedMs: 5000 }, API);
  assert.ok(match && isUnconfirmed(match));
  assert.equal(match.observed, 'the proxy accepted the tunnel to api.openai.com:443 (CONNECT 200), then nothing came back through it in 5 s');
  assert.match(match.alternatives ?? '', /slow or dead upstream/);
  assert.doesNotMatch(controlLine(match), /blocked by/);
  // Every other row is named from marks only that control leaves: a finding.
  for (const [cause, observation] of RECORDED) {
    if (cause !== 'silent_tunnel') assert.equal(isUnconfirmed(recognizeControl(observation, API)!), false, cause);
  }
});

test('answers that carry none of the marks name no control: no guess where nothing was seen', () => {
  const unmarked: Observation[] = [
    // The API's own 401 and 403.
    { stage: 'http', status: 401, method: 'POST', answeredBy: 'api', headers: { 'x-request-id': 'req_1' } },
    { stage: 'http', status: 403, method: 'GET', answeredBy: 'api', headers: { 'x-request-id': 'req_1' } },
    // A POST refused in between while nothing says a GET got through: any proxy rule, not a method setting.
    { stage: 'http', status: 403, method: 'POST', answeredBy: 'proxy', headers: {} },
    { stage: 'http', status: 403, method: 'POST', answeredBy: 'proxy', getReachedApi: false, headers: {} },
    // A POST refused while another POST (the cancel) reached the API: a path filter, not a method limit.
    { stage: 'http', status: 403, method: 'POST', answeredBy: 'other', getReachedApi: true, postReachedApi: true, headers: {} },
    // 403 to CONNECT from an unnamed proxy; a refused or timed-out TCP connection; a direct TLS timeout.
    { stage: 'connect', status: 403, headers: { server: 'ProxyChain' } },
    { stage: 'tcp', errorCode: 'ECONNREFUSED' },
    { stage: 'tcp', errorCode: 'ETIMEDOUT' },
    // A firewall's answer on the way to a proxy: the fix would name the wrong host.
    { stage: 'tcp', errorCode: 'EHOSTUNREACH', proxyKind: 'http' },
    { stage: 'tls', errorCode: 'ETIMEDOUT', proxyKind: 'none' },
    // Other SOCKS replies, other addresses, a trusted chain, an x-proxy-error value nobody documented.
    { stage: 'socks', status: 5, proxyKind: 'socks' },
    { stage: 'dns', resolvedAddress: '162.159.140.245' },
    { stage: 'tls', certificateIssuer: 'Zscaler Inc.' },
    { stage: 'connect', status: 403, headers: { 'x-proxy-error': 'something-else' } },
    // The sinkhole address seen anywhere but in the API host's DNS answer.
    { stage: 'tcp', resolvedAddress: HARDEN_RUNNER_SINKHOLE, errorCode: 'ECONNREFUSED' },
  ];
  for (const observation of unmarked) assert.equal(recognizeControl(observation, API), undefined, JSON.stringify(observation));
});

test('the fix names the host and port of the base URL in use', () => {
  const target = { host: 'gateway.example', port: 8443 };
  assert.match(recognizeControl({ stage: 'connect', status: 403, headers: { 'x-squid-error': 'ERR_ACCESS_DENIED 0' } }, target)?.fix ?? '', /gateway\.example:8443/);
  assert.match(recognizeControl({ stage: 'dns', resolvedAddress: HARDEN_RUNNER_SINKHOLE }, target)?.fix ?? '', /gateway\.example:8443/);
  assert.match(recognizeControl({ stage: 'tls', errorCode: 'SELF_SIGNED_CERT_IN_CHAIN', certificateIssuer: 'Example Corp' }, target)?.control ?? '', /issuer "Example Corp"/);
});

test('every control has a source and a section in docs/outbound-network-access.md under its cause code', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'outbound-network-access.md'), 'utf8');
  for (const row of CONTROLS) {
    assert.ok(row.source.length > 10, `${row.cause} names its source`);
    assert.match(doc, new RegExp(`^### .*\`${row.cause}\``, 'm'), `a section for ${row.cause}`);
  }
});
