import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { resolveProxy } from '../src/egress/proxy-config.js';
import { TARGET_NAMES } from '../src/egress/policy-targets.js';
import { runMain, tempDir } from './helpers.js';

/** `bgprobe policy ...` in this process; the policy reads no network. */
async function policy(t: import('node:test').TestContext, args: readonly string[], env: Record<string, string> = {}) {
  return runMain(['policy', ...args], env, tempDir(t));
}

function bash(script: string, env: Record<string, string> = {}): string {
  // --norc: a bash whose stdin is a socket (Node's pipes are) reads ~/.bashrc, which can take a second; the snippet needs none of it.
  return execFileSync('bash', ['--norc', '-c', script], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
}

test('policy --for list names every target, and --json gives each as data', async (t) => {
  const list = await policy(t, ['--for', 'list']);
  assert.equal(list.code, 0, list.stderr);
  for (const name of TARGET_NAMES) assert.match(list.stdout, new RegExp(`^${name}\\s{2,}\\S`, 'm'), name);
  for (const required of ['squid', 'no-proxy', 'harden-runner', 'copilot-agent', 'codex-cloud', 'devcontainer', 'hosts']) assert.ok(TARGET_NAMES.includes(required as never), required);
  const json = await policy(t, ['--for', 'list', '--json']);
  const { targets } = JSON.parse(json.stdout) as { targets: { target: string; text: string; data: object; note: string }[] };
  assert.deepEqual(targets.map((x) => x.target), [...TARGET_NAMES]);
  for (const x of targets) assert.ok(x.text.includes('api.openai.com') && Object.keys(x.data).length > 0 && x.note.length > 0, x.target);
});

test('an unknown target is refused with exit 2 and the list of targets, and prints nothing on stdout', async (t) => {
  const result = await policy(t, ['--for', 'iptables']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `bgprobe: --for "iptables" is not a known target; use one of: list, ${TARGET_NAMES.join(', ')}\n`);
});

test('the base URL decides the host and port of every snippet (--base-url, OPENAI_BASE_URL)', async (t) => {
  const byFlag = await policy(t, ['--for', 'hosts', '--base-url', 'https://gateway.example:8443/openai/v1']);
  assert.equal(byFlag.stdout, 'gateway.example:8443\n');
  const byEnv = await policy(t, ['--for', 'harden-runner'], { OPENAI_BASE_URL: 'https://llm.corp.example/v1' });
  assert.match(byEnv.stdout, /^ {6}llm\.corp\.example:443$/m);
  assert.doesNotMatch(byEnv.stdout, /openai/);
  const squid = await policy(t, ['--for', 'squid', '--base-url', 'https://10.1.2.3:8443/v1']);
  assert.match(squid.stdout, /^acl bgprobe_api dst 10\.1\.2\.3$/m, 'an IP address is matched with dst, not dstdomain');
  assert.match(squid.stderr, /SSL_ports port 8443/, 'a port squid denies by default is named');
});

test('the stdout of policy --for is the snippet alone; what it cannot say goes to stderr', async (t) => {
  for (const name of TARGET_NAMES) {
    const result = await policy(t, ['--for', name]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^bgprobe: .+\n$/, name);
    const json = JSON.parse((await policy(t, ['--for', name, '--json'])).stdout) as { text: string };
    assert.equal(json.text, result.stdout, `${name}: --json carries the same text`);
  }
});

test('squid: acl lines and an http_access allow line that uses only the acls it defines', async (t) => {
  const { stdout } = await policy(t, ['--for', 'squid']);
  const lines = stdout.split('\n').filter((line) => line && !line.startsWith('#'));
  const defined = new Set<string>();
  for (const line of lines) {
    const acl = /^acl (\w+) (dstdomain|dst|port|method) \S+( \S+)*$/.exec(line);
    if (acl) defined.add(acl[1] as string);
    else {
      const allow = /^http_access allow (CONNECT )?((?:\w+ ?)+)$/.exec(line);
      assert.ok(allow, `not squid syntax: ${line}`);
      for (const name of (allow[2] as string).trim().split(' ')) assert.ok(defined.has(name), `${name} is defined above its use`);
    }
  }
  assert.deepEqual(lines, ['acl bgprobe_api dstdomain api.openai.com', 'acl bgprobe_port port 443', 'http_access allow CONNECT bgprobe_api bgprobe_port']);
  const http = await policy(t, ['--for', 'squid', '--base-url', 'http://127.0.0.1:8080/v1']);
  assert.match(http.stdout, /^acl bgprobe_methods method POST GET$/m, 'plain HTTP: squid sees the methods');
  // bgprobe tunnels plain http through CONNECT as well (undici's ProxyAgent), so the CONNECT rule is there too.
  assert.match(http.stdout, /^http_access allow CONNECT bgprobe_api bgprobe_port$/m);
});

test('no-proxy: the lines add the host to NO_PROXY and no_proxy, keep what was there, and make bgprobe go direct', async (t) => {
  const { stdout } = await policy(t, ['--for', 'no-proxy']);
  assert.equal(bash(`${stdout}printf '%s|%s' "$NO_PROXY" "$no_proxy"`, { NO_PROXY: 'localhost,.internal' }), 'localhost,.internal,api.openai.com|api.openai.com');
  const values = Object.fromEntries(bash(`${stdout}printf '%s\\n%s' "$NO_PROXY" "$no_proxy"`).split('\n').map((v, i) => [i === 0 ? 'NO_PROXY' : 'no_proxy', v]));
  const env = { ...values, HTTPS_PROXY: 'http://127.0.0.1:9' } as Record<string, string>;
  const decision = resolveProxy(new URL('https://api.openai.com/v1'), undefined, { get: (name) => env[name], sourceOf: () => 'environment' });
  assert.equal(decision.proxy, undefined, decision.explanation);
});

test('harden-runner: a step with egress-policy block and host:port entries under allowed-endpoints', async (t) => {
  const { stdout } = await policy(t, ['--for', 'harden-runner']);
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines[0], '- uses: step-security/harden-runner@v2');
  assert.ok(lines.includes('    egress-policy: block'));
  const block = lines.slice(lines.indexOf('    allowed-endpoints: >') + 1);
  assert.ok(block.length > 0);
  for (const entry of block) assert.match(entry, /^ {6}[a-z0-9.-]+:\d+$/, 'one host:port per line, indented under the folded block');
  assert.ok(lines.every((line) => !line.includes('\t')), 'YAML forbids tabs for indentation');
});

test('copilot-agent and codex-cloud: bare domain names (no scheme, port, path or wildcard) and every method', async (t) => {
  const copilot = await policy(t, ['--for', 'copilot-agent']);
  for (const entry of copilot.stdout.trimEnd().split('\n')) assert.match(entry, /^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
  const codex = JSON.parse((await policy(t, ['--for', 'codex-cloud', '--json'])).stdout) as { data: { domains: string[]; allowed_http_methods: string } };
  assert.deepEqual(codex.data.domains, ['api.openai.com']);
  assert.equal(codex.data.allowed_http_methods, 'All', 'GET, HEAD, OPTIONS would block create');
});

test('devcontainer: the entry fits the firewall script\'s "for domain in" list, and the note warns about rotating addresses', async (t) => {
  const { stdout, stderr } = await policy(t, ['--for', 'devcontainer']);
  const loop = `for domain in \\\n    "registry.npmjs.org" \\\n${stdout}    ; do echo "$domain"; done`;
  assert.equal(bash(loop), 'registry.npmjs.org\napi.openai.com\n');
  assert.match(stderr, /addresses rotate/);
});

test('hosts: one host:port per line', async (t) => {
  const { stdout } = await policy(t, ['--for', 'hosts']);
  assert.equal(stdout, 'api.openai.com:443\n');
});
