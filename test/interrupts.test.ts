import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Emulator } from '../src/emulator/server.js';
import { callsOf, emulatorFor, envFor, startCli, tempDir } from './helpers.js';
import { reverseProxy, type Relay } from './reverse-proxy.js';

const NEVER = { queuedMs: 50, neverFinish: true };

/** A run against the emulator, once it has polled: where a test sends its signal. */
async function runUntilFirstPoll(t: TestContext, emulator: Emulator, extraArgs: readonly string[] = []) {
  const dir = tempDir(t);
  const cli = startCli(['run', '--poll-interval', '0.1', '--output', 'r.md', ...extraArgs], { cwd: dir, env: envFor(emulator) });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Poll 1: status/);
  return { dir, cli };
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} while polling stops, records an interrupted event and the commands, exits ${code}`, async (t) => {
    const emulator = await emulatorFor(t, NEVER);
    const { dir, cli } = await runUntilFirstPoll(t, emulator);
    cli.child.kill(signal);
    const result = await cli.done;
    assert.equal(result.code, code, result.stderr);
    const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
    assert.match(result.stderr, new RegExp(`WARN  interrupted by ${signal}, while following response ${id}`));
    assert.match(result.stderr.trim().split('\n').at(-1)!, new RegExp(`still running: resume with "bgprobe poll ${id} --base-url [^"]+", cancel with "bgprobe cancel ${id} --base-url [^"]+"$`));
    assert.equal(callsOf(emulator).cancels, 0);
    const report = readFileSync(join(dir, 'r.md'), 'utf8');
    assert.match(report, new RegExp(`\\[WARN\\] interrupted by ${signal}`));
    assert.match(report, new RegExp(`\\| Status \\| interrupted \\(${signal}\\): the response is still running; last seen \\w+ \\|`));
    assert.match(report, new RegExp(`\\| Cancel \\| bgprobe cancel ${id} --base-url \\S+ \\|`));
  });
}

test('--cancel-on-interrupt sends the cancel first and reports the answer', async (t) => {
  const emulator = await emulatorFor(t, NEVER);
  const { dir, cli } = await runUntilFirstPoll(t, emulator, ['--cancel-on-interrupt']);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.equal(callsOf(emulator).cancels, 1);
  assert.match(result.stderr, /Cancel answered HTTP 200: response resp_\w+ is now cancelled/);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /\| Status \| interrupted \(SIGINT\); cancelled on request \(--cancel-on-interrupt\); last seen cancelled \|/);
  // The response is cancelled: the report does not tell the user to resume or cancel it again.
  assert.doesNotMatch(report, /\| Resume \||\| Cancel \| bgprobe cancel/);
  assert.match(result.stdout, /Final status: cancelled\n$/);
});

test('a second Ctrl-C exits at once, even while the cancel call hangs', async (t) => {
  const emulator = await emulatorFor(t, { ...NEVER, faults: [{ call: 'cancel', nth: 1, andLater: false, action: { kind: 'slow', delayMs: 20_000 } }] });
  const { cli } = await runUntilFirstPoll(t, emulator, ['--cancel-on-interrupt']);
  cli.child.kill('SIGINT');
  await cli.waitForStderr(/Cancelling response/);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130);
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  assert.match(result.stderr, new RegExp(`bgprobe: SIGINT again: exiting at once; response ${id} may still be running: resume with "bgprobe poll ${id} --base-url `));
});

test('kill -9 mid-run leaves a report naming the id and every event so far', async (t) => {
  const emulator = await emulatorFor(t, NEVER);
  const dir = tempDir(t);
  const cli = startCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Poll 2: status/);
  cli.child.kill('SIGKILL');
  const result = await cli.done;
  assert.equal(result.signal, 'SIGKILL');
  const id = /Created response (resp_\w+)/.exec(result.stderr)![1]!;
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, new RegExp(`Response id: \`${id}\``));
  // Every event the console showed before the kill is in the report, in order.
  const events = [...result.stderr.matchAll(/^\S+Z (INFO|WARN|ERROR) +(.+)$/gm)].map((m) => m[2]!);
  assert.ok(events.length >= 4);
  let at = 0;
  for (const event of events) {
    const found = report.indexOf(event, at);
    assert.ok(found >= 0, `missing from the report: ${event}`);
    at = found;
  }
  assert.match(report, /The run is still going, or was stopped before it ended/);
});

/** A relay that passes every answer on at once except the create's, held until `release()`; `arrived` once the create has been answered upstream. */
function heldCreate(): { relay: Relay; arrived: Promise<void>; release: () => void } {
  let arrive = () => {};
  let release = () => {};
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const relay: Relay = (upstream, res) => {
    const pass = () => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    };
    if (res.req.method !== 'POST') return pass();
    arrive();
    void released.then(pass);
  };
  return { relay, arrived, release };
}

test('Ctrl-C during the create lets it finish, so the id is never lost', async (t) => {
  const emulator = await emulatorFor(t, NEVER);
  // The create's answer is held until the Ctrl-C has been answered: counted events, not a race with a slow create.
  const create = heldCreate();
  const baseUrl = await reverseProxy(t, emulator.baseUrl, create.relay);
  const dir = tempDir(t);
  const cli = startCli(['run', '--poll-interval', '0.1', '--output', 'r.md'], { cwd: dir, env: { ...envFor(emulator), OPENAI_BASE_URL: baseUrl } });
  t.after(() => cli.child.kill('SIGKILL'));
  await create.arrived;
  cli.child.kill('SIGINT');
  // Said at once, before the create answers.
  await cli.waitForStderr(/bgprobe: SIGINT: waiting for the create's answer to learn the response id \(at most --timeout 60 s\); a second Ctrl-C exits now, without the id\n/);
  assert.doesNotMatch(cli.stderr(), /Created response/);
  create.release();
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.equal(callsOf(emulator).polls, 0);
  const id = /Created response (resp_\w+)/.exec(result.stderr)?.[1];
  assert.ok(id, 'the created id is reported');
  assert.match(result.stderr.trim().split('\n').at(-1)!, new RegExp(`resume with "bgprobe poll ${id} --base-url [^"]+"`));
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), new RegExp(`Response id: \`${id}\``));
});

test('Ctrl-C while a create waits to be retried sends nothing more and says no response was created', async (t) => {
  const emulator = await emulatorFor(t, { faults: [{ call: 'create', nth: 1, andLater: true, action: { kind: 'status', status: 503, retryAfter: '30' } }] });
  const dir = tempDir(t);
  const cli = startCli(['run', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  t.after(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/Retry 1\/5 in 30\.0 s/);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.equal(callsOf(emulator).creates, 1);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /^bgprobe: interrupted by SIGINT; no response was created$/);
});

test('a refused --cancel-on-interrupt cancel is reported, and the response is still named as running', async (t) => {
  const emulator = await emulatorFor(t, { ...NEVER, faults: [{ call: 'cancel', nth: 1, andLater: false, action: { kind: 'status', status: 400 } }] });
  const { dir, cli } = await runUntilFirstPoll(t, emulator, ['--cancel-on-interrupt']);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /ERROR Cancel failed: POST \/v1\/responses\/resp_\w+\/cancel failed: the API answered HTTP 400/);
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /\| Status \| interrupted \(SIGINT\); the cancel call failed \(--cancel-on-interrupt\): the response is still running; last seen in_progress \|/);
});

test('a second Ctrl-C during the create exits 130 at once, naming the Idempotency-Key on stderr and in the report', async (t) => {
  const emulator = await emulatorFor(t, { ...NEVER, faults: [{ call: 'create', nth: 1, andLater: false, action: { kind: 'slow', delayMs: 20_000 } }] });
  const dir = tempDir(t);
  const cli = startCli(['run', '--quiet', '--output', 'r.md'], { cwd: dir, env: envFor(emulator) });
  t.after(() => cli.child.kill('SIGKILL'));
  // --quiet hides the Submitting event: wait for the create to reach the emulator instead.
  const deadline = Date.now() + 15_000;
  while (callsOf(emulator).creates === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  cli.child.kill('SIGINT');
  await cli.waitForStderr(/a second Ctrl-C exits now/);
  const started = Date.now();
  cli.child.kill('SIGINT');
  const result = await cli.done;
  assert.equal(result.code, 130, result.stderr);
  assert.ok(Date.now() - started < 10_000, 'did not wait for the create');
  const key = emulator.requests.find((r) => r.method === 'POST')?.headers['idempotency-key'];
  const last = result.stderr.trimEnd().split('\n').at(-1) ?? '';
  assert.match(last, /^bgprobe: SIGINT again: exiting at once, before the create answered: a background response may exist all the same\. .+follow it with "bgprobe poll RESPONSE_ID --base-url [^"]+", RESPONSE_ID being its id \(the create carried Idempotency-Key bgprobe-[\w-]+\)$/);
  if (key !== undefined) assert.ok(last.includes(String(key)), `${last} names ${key}`);
  const report = readFileSync(join(dir, 'r.md'), 'utf8');
  assert.match(report, /\[WARN\] SIGINT: waiting for the create's answer/);
  assert.match(report, /\[WARN\] SIGINT again: exiting at once, before the create answered: a background response may exist all the same\. .+\(the create carried Idempotency-Key bgprobe-/);
});
