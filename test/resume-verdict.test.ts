import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResponseObject } from '../src/api/response.js';
import { parseFaults } from '../src/emulator/faults.js';
import { ApiError } from '../src/errors.js';
import { commandsOf, failureLine, resumeAfter, unknownIdFollowUp, withResumeClause, type ResumeRoute } from '../src/job/outcome.js';
import { CreateUncertainError } from '../src/job/submit.js';
import { RunStopped } from '../src/job/stop.js';
import { createResponseOn, emulatorFor, envFor, resumeHintFor, runCli, singleJsonObject, tempDir } from './helpers.js';

test('poll stopped before it has seen any status does not claim the response "is still running": it may be, and the commands are given', async (t) => {
  // Every GET is held: the deadline ends the first retrieve, so no status of the response was ever seen.
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: parseFaults('poll1+=slow:60000') });
  const id = await createResponseOn(emulator);
  const dir = tempDir(t);
  const result = await runCli(['poll', id, '--max-wait', '1', '--output', 'p.md'], { cwd: dir, env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.equal(last, `bgprobe: --max-wait 1 s passed before a terminal status; response ${id} may still be running: ${resumeHintFor(id, emulator.baseUrl)}`);
  assert.doesNotMatch(result.stderr, /is still running/);

  const json = await runCli(['poll', id, '--max-wait', '1', '--output', 'p.md', '--json'], { cwd: dir, env: envFor(emulator) });
  assert.equal(json.code, 4, json.stderr);
  const summary = singleJsonObject(json.stdout);
  assert.equal(summary['status'], null);
  assert.equal(summary['resume_command'], `bgprobe poll ${id} --base-url ${emulator.baseUrl}`);
});

test('after --cancel-on-timeout took, the line says how the response ended, as a failure would, and gives no resume command', async (t) => {
  // Poll 1 is answered and every later poll held: the deadline ends a known wait.
  const emulator = await emulatorFor(t, { queuedMs: 50, neverFinish: true, faults: parseFaults('poll2+=slow:60000') });
  const result = await runCli(['run', '--poll-interval', '0.1', '--max-wait', '1', '--cancel-on-timeout', '--output', 'r.md', '--json'], { cwd: tempDir(t), env: envFor(emulator) });
  assert.equal(result.code, 4, result.stderr);
  const summary = singleJsonObject(result.stdout);
  const id = summary['id'] as string;
  assert.equal(
    result.stderr.trim().split('\n').at(-1),
    `bgprobe: --max-wait 1 s passed before a terminal status; response ${id} ended with status cancelled: see it again with "bgprobe poll ${id} --base-url ${emulator.baseUrl}"`,
  );
  assert.equal(summary['resume_command'], null);
  assert.equal(summary['cancel_command'], null);
});

/** The API's own 404 for an id, as answer.ts reads it. */
function apiNotFound(id: string): ApiError {
  const apiError = { message: `Response with id '${id}' not found.`, type: 'invalid_request_error', code: null, param: null };
  return new ApiError({ method: 'GET', path: `/v1/responses/${id}`, status: 404, requestId: 'req_1', apiError, contentType: 'application/json', bodySnippet: undefined, headers: {}, answeredBy: 'api' });
}

test('one rule decides what every ending says of the response, and --json carries commands exactly when the line does', () => {
  const route: ResumeRoute = { args: ['--base-url', 'http://127.0.0.1:9/v1'], maskedProxyPassword: false };
  const emulatorRoute: ResumeRoute = { ...route, endsWithRun: 'the built-in emulator (--emulator)' };
  const seen = (status: string) => ({ id: 'resp_1', status }) as ResponseObject;
  const stop = new RunStopped('deadline', 5);
  const failure = new Error('boom');
  const cases: [string, Parameters<typeof resumeAfter>, 'stopped' | 'failed', string][] = [
    ['no id, stopped', [{ responseId: undefined, lastSeen: undefined }, stop, route], 'stopped', 'x; no response was created'],
    ['no id, failed', [{ responseId: undefined, lastSeen: undefined }, failure, route], 'failed', 'x'],
    ['the API says 404', [{ responseId: 'resp_1', lastSeen: seen('in_progress') }, apiNotFound('resp_1'), route], 'failed', 'x'],
    ['seen running, stopped', [{ responseId: 'resp_1', lastSeen: seen('queued') }, stop, route], 'stopped', 'x; response resp_1 is still running: resume with "bgprobe poll resp_1 --base-url http://127.0.0.1:9/v1", cancel with "bgprobe cancel resp_1 --base-url http://127.0.0.1:9/v1"'],
    ['seen running, failed', [{ responseId: 'resp_1', lastSeen: seen('in_progress') }, failure, route], 'failed', 'x; response resp_1 may still be running: resume with "bgprobe poll resp_1 --base-url http://127.0.0.1:9/v1", cancel with "bgprobe cancel resp_1 --base-url http://127.0.0.1:9/v1"'],
    ['never seen, stopped', [{ responseId: 'resp_1', lastSeen: undefined }, stop, route], 'stopped', 'x; response resp_1 may still be running: resume with "bgprobe poll resp_1 --base-url http://127.0.0.1:9/v1", cancel with "bgprobe cancel resp_1 --base-url http://127.0.0.1:9/v1"'],
    ['ended', [{ responseId: 'resp_1', lastSeen: seen('completed') }, failure, route], 'failed', 'x; response resp_1 ended with status completed: see it again with "bgprobe poll resp_1 --base-url http://127.0.0.1:9/v1"'],
    ['ended in the emulator', [{ responseId: 'resp_1', lastSeen: seen('cancelled') }, stop, emulatorRoute], 'stopped', 'x; response resp_1 ended with status cancelled'],
    ['running in the emulator', [{ responseId: 'resp_1', lastSeen: seen('in_progress') }, failure, emulatorRoute], 'failed', 'x; response resp_1 ended with the built-in emulator (--emulator), which stopped with this run: nothing to resume or cancel'],
  ];
  for (const [name, args, ending, line] of cases) {
    const resume = resumeAfter(...args);
    assert.equal(withResumeClause('x', resume, ending), line, name);
    const commands = commandsOf(resume);
    assert.equal(commands !== undefined, line.includes('resume with'), name);
    if (commands) assert.ok(line.includes(`resume with "${commands.poll}", cancel with "${commands.cancel}"`), name);
  }
});

test('a create that may have started a response in the built-in emulator gives no command to follow it: that emulator stopped with the run', () => {
  // run --emulator's route: a printed `poll --base-url <emulator>` would reach nothing once the run has ended.
  const emulatorRoute: ResumeRoute = { args: ['--base-url', 'http://127.0.0.1:9/v1'], maskedProxyPassword: false, endsWithRun: 'the built-in emulator (--emulator)' };
  const uncertain = new CreateUncertainError(new Error('the connection closed after the create was sent'), 'bgprobe-key-1');
  const line = failureLine(uncertain, emulatorRoute);
  assert.doesNotMatch(line, /bgprobe poll/);
  assert.match(line, /It would have lived in the built-in emulator \(--emulator\), which stopped with this run: there is nothing to follow \(the request carried Idempotency-Key bgprobe-key-1\)$/);
  assert.doesNotMatch(unknownIdFollowUp(emulatorRoute), /bgprobe poll/);

  const apiRoute: ResumeRoute = { args: ['--base-url', 'http://127.0.0.1:9/v1'], maskedProxyPassword: false };
  assert.match(failureLine(uncertain, apiRoute), /follow it with "bgprobe poll RESPONSE_ID --base-url http:\/\/127\.0\.0\.1:9\/v1", RESPONSE_ID being its id \(the request carried Idempotency-Key bgprobe-key-1\)$/);
});
