import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createResponseOn, emulatorFor, ROOT, runCli, tempDir, TEST_KEY, startEmulateCommand } from './helpers.js';

test('bgprobe emulate --queued-seconds 0 --running-seconds 0 finishes a response at once', async (t) => {
  const { cli, baseUrl } = await startEmulateCommand(t, ['--queued-seconds', '0', '--running-seconds', '0.0']);
  const id = await createResponseOn({ baseUrl });
  const res = await fetch(`${baseUrl}/responses/${id}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  assert.equal(((await res.json()) as { status: string }).status, 'completed');
  cli.child.kill('SIGINT');
  assert.equal((await cli.done).code, 0);
});

test('bgprobe emulate on a port already in use says so in one line, with what to do', async (t) => {
  const busy = await emulatorFor(t);
  const result = await runCli(['emulate', '--port', String(busy.port)], { cwd: tempDir(t) });
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `bgprobe: port ${busy.port} on 127.0.0.1 is already in use; choose another --port, or leave it out for a free one\n`);
  assert.equal(result.stdout, '');
});

test('bgprobe emulate --fault poll1+=large:BYTES pads the answers, so --max-response-bytes can be tried by hand', async (t) => {
  const { cli, baseUrl } = await startEmulateCommand(t, ['--fault', 'poll1+=large:300000']);
  const id = await createResponseOn({ baseUrl });
  const large = await (await fetch(`${baseUrl}/responses/${id}`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).text();
  assert.equal(Buffer.byteLength(large), 300000);
  assert.equal((JSON.parse(large) as { id: string }).id, id, 'the same Response object, padded');

  const dir = tempDir(t);
  const refused = await runCli(['poll', id, '--max-response-bytes', '100000', '--max-retries', '0', '--output', 'p.md'], { cwd: dir, env: { OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: baseUrl } });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /with a body over 100000 bytes \(the --max-response-bytes cap\)/);
  cli.child.kill('SIGINT');
  assert.equal((await cli.done).code, 0);
});

test('bgprobe emulate logs one line per request: time, method, path, status and duration', async (t) => {
  const { cli, baseUrl } = await startEmulateCommand(t, ['--fault', 'poll2=drop']);
  const id = await createResponseOn({ baseUrl });
  const headers = { authorization: `Bearer ${TEST_KEY}` };
  assert.equal((await fetch(`${baseUrl}/responses/${id}`, { headers })).status, 200);
  await assert.rejects(fetch(`${baseUrl}/responses/${id}`, { headers }), 'the second poll is dropped');
  assert.equal((await fetch(`${baseUrl}/responses/resp_nope`, { headers })).status, 404);
  await cli.waitForStderr(/resp_nope -> 404/);
  const logged = cli.stderr().split('\n').filter((line) => /^\d{4}-\d\d-\d\dT/.test(line));
  const shape = (method: string, path: string, outcome: string) => new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${method} ${path} -> ${outcome} in \\d+ ms$`);
  assert.equal(logged.length, 4, cli.stderr());
  assert.match(logged[0]!, shape('POST', '/v1/responses', '200'));
  assert.match(logged[1]!, shape('GET', `/v1/responses/${id}`, '200'));
  assert.match(logged[2]!, shape('GET', `/v1/responses/${id}`, 'closed without an answer'));
  assert.match(logged[3]!, shape('GET', '/v1/responses/resp_nope', '404'));
  cli.child.kill('SIGINT');
  assert.equal((await cli.done).code, 0);
  assert.match(cli.stderr(), /it served 4 requests/);
});

/** The README's own openssl line, run as written: the rehearsal it shows must work. */
function makeCertificateAsReadmeSays(dir: string): void {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const line = /^openssl req .+$/m.exec(readme)?.[0];
  assert.ok(line, 'the README shows how to make the certificate with openssl');
  const args = line.replace(/\s+#.*$/, '').split(/\s+/).slice(1);
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

test('emulate --tls-cert/--tls-key serves HTTPS, and check --ca-file trusts it, as the README rehearses it', async (t) => {
  const dir = tempDir(t);
  makeCertificateAsReadmeSays(dir);
  const cert = join(dir, 'emu-cert.pem');
  // Short emulator clocks (the README's command has the default 3 s): the subject is TLS and trust, not the wait.
  const { cli, baseUrl } = await startEmulateCommand(t, ['--tls-cert', cert, '--tls-key', join(dir, 'emu-key.pem'), '--queued-seconds', '0.1', '--running-seconds', '0.2']);
  assert.match(baseUrl, /^https:\/\/127\.0\.0\.1:\d+\/v1$/);
  assert.match(cli.stderr(), new RegExp(`Use it with: OPENAI_BASE_URL=${baseUrl} OPENAI_API_KEY=sk-any bgprobe run --poll-interval 1 --ca-file ${cert}`));

  const env = { OPENAI_BASE_URL: baseUrl };
  const trusted = await runCli(['check', '--ca-file', 'emu-cert.pem'], { cwd: dir, env });
  assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
  assert.match(trusted.stdout, /^ {2}ok {4}TLS .+issued by "localhost"/m);

  const untrusted = await runCli(['check'], { cwd: dir, env });
  assert.equal(untrusted.code, 1, untrusted.stdout);
  assert.match(untrusted.stdout, /^ {2}FAIL {2}TLS /m);

  const run = await runCli(['run', '--poll-interval', '0.1', '--ca-file', 'emu-cert.pem', '--output', 'r.md'], { cwd: dir, env: { ...env, OPENAI_API_KEY: 'sk-any' } });
  assert.equal(run.code, 0, run.stderr);
  cli.child.kill('SIGINT');
  await cli.done;
});

test('emulate refuses half a TLS pair or a file that is not PEM, in one line, exit 2', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'not.pem'), 'hello\n');
  for (const [args, expected] of [
    [['--tls-cert', 'x.pem'], /^bgprobe: --tls-cert given alone; HTTPS needs both --tls-cert and --tls-key \(PEM files\)$/],
    [['--tls-cert', 'missing.pem', '--tls-key', 'not.pem'], /^bgprobe: --tls-cert "missing\.pem" cannot be read \(ENOENT\); give a PEM file$/],
    [['--tls-cert', 'not.pem', '--tls-key', 'not.pem'], /^bgprobe: --tls-cert "not\.pem" is not a PEM file with a certificate/],
  ] as const) {
    const result = await runCli(['emulate', ...args], { cwd: dir });
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr.trimEnd(), expected);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
  }
});
