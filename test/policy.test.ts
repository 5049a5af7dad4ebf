import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENDPOINTS } from '../src/api/endpoints.js';
import { policyFor, policyTable } from '../src/egress/policy.js';
import { runCli, tempDir } from './helpers.js';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'outbound-network-access.md');

test('policy --json gives host, port, scheme and the endpoint table', async (t) => {
  const result = await runCli(['policy', '--json'], { cwd: tempDir(t) });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    host: 'api.openai.com',
    port: 443,
    scheme: 'https',
    endpoints: [
      { name: 'create', method: 'POST', path: '/v1/responses', required: true },
      { name: 'retrieve', method: 'GET', path: '/v1/responses/{response_id}', required: true },
      { name: 'cancel', method: 'POST', path: '/v1/responses/{response_id}/cancel', required: false },
    ],
  });
  assert.equal(JSON.parse(result.stdout).endpoints.length, ENDPOINTS.length);
});

test('policy text names the host, every call, and what a GET/HEAD/OPTIONS-only policy breaks', async (t) => {
  const result = await runCli(['policy'], { cwd: tempDir(t), env: { OPENAI_BASE_URL: 'https://gateway.example:8443/openai/v1' } });
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Allow https:\/\/gateway\.example:8443/);
  assert.ok(result.stdout.includes('| create | POST | /openai/v1/responses | yes |'));
  assert.match(result.stdout, /only GET, HEAD and OPTIONS blocks\s+create/);
});

test('docs/outbound-network-access.md holds exactly the table policy prints', async (t) => {
  const doc = readFileSync(DOC, 'utf8');
  const table = policyTable(policyFor(new URL('https://api.openai.com/v1')));
  assert.ok(doc.includes(table), `the doc must contain, verbatim:\n${table}`);
  const printed = await runCli(['policy'], { cwd: tempDir(t) });
  assert.ok(printed.stdout.includes(table));
  // The doc holds one table of calls: no stale second copy.
  assert.equal(doc.split('| name | method | path | required | why |').length, 2);
});
