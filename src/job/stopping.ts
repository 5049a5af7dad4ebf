import { isPending } from '../api/response.js';
import type { ExitCode } from '../exit-codes.js';
import { unfinishedEnding } from './outcome.js';
import { elapsedSeconds, noteResponse, type Session } from './session.js';
import type { RunStopped } from './stop.js';

/**
 * Ends a run that stopped on purpose (--max-wait passed, SIGINT, SIGTERM) before a terminal
 * status: one event saying why, the cancel call first when asked for, closing sections that
 * say whether the response is still running, and the exact commands to resume or cancel it.
 */
export async function recordStop(session: Session, stopped: RunStopped, cancelFirst: boolean): Promise<{ exitCode: ExitCode; line: string }> {
  const { journal, progress } = session;
  const id = progress.responseId;
  journal.warn(id ? `${stopped.message}, while following response ${id}` : `${stopped.message}, before any response was created`);
  let what = stopped.why === 'deadline' ? `stopped: ${stopped.message}` : `interrupted (${stopped.why})`;
  if (id && cancelFirst) {
    const flag = stopped.why === 'deadline' ? '--cancel-on-timeout' : '--cancel-on-interrupt';
    journal.info(`Cancelling response ${id} (${flag})`);
    try {
      const answer = await session.client.cancel(id);
      noteResponse(session, answer.response);
      journal.info(`Cancel answered HTTP ${answer.status}: response ${id} is now ${answer.response.status ?? '(no status)'}`);
      what += `; cancelled on request (${flag})`;
    } catch (error) {
      journal.error(`Cancel failed: ${error instanceof Error ? error.message : String(error)}`);
      what += `; the cancel call failed (${flag})`;
    }
  }
  const status = progress.lastSeen?.status;
  const running = id !== undefined && (status === undefined || isPending(status));
  let line = stopped.message;
  if (id && running) {
    what += ': the response is still running';
    line += `; response ${id} is still running: resume with "bgprobe poll ${id}", cancel with "bgprobe cancel ${id}"`;
    journal.warn(`Response ${id} is still running: resume with "bgprobe poll ${id}", cancel with "bgprobe cancel ${id}"`);
  } else if (id) {
    line += `; response ${id} is ${status}`;
  } else {
    what += ': no response was created';
    line += '; no response was created';
  }
  const facts = { elapsedSeconds: elapsedSeconds(session), polls: progress.polls, finishedAt: session.clock.now() };
  session.report.finish(unfinishedEnding(what, facts, id, progress.lastSeen));
  return { exitCode: stopped.exitCode, line };
}
