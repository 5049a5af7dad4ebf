import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { ResponseObject } from '../api/response.js';
import type { RetryingClient } from '../api/retrying-client.js';
import { createApiClient } from './api-client.js';
import type { ApiConfig } from '../config/run-config.js';
import { chooseProgress } from '../console/progress.js';
import { PLAIN_CONSOLE, type ConsoleOptions } from '../console/options.js';
import type { Io } from '../io.js';
import { commandLine } from '../report/command-line.js';
import { RunReport, type ReportHeader } from '../report/report.js';
import { systemClock, type Clock } from './clock.js';
import { Journal } from './journal.js';
import { EvidenceCollector } from './evidence.js';
import type { StreamStats } from './stream-timing.js';

/** What a reporting command (run, poll) works with: one report, one journal, one client, one clock. */
export interface Session {
  /** The API base URL the calls go to, as the --json summary names it. */
  readonly baseUrl: string;
  readonly report: RunReport;
  readonly journal: Journal;
  /** The API calls with the retry policy applied; every retry is a journal event. */
  readonly client: RetryingClient;
  readonly clock: Clock;
  /** Monotonic start of the run, for elapsed time. */
  readonly startedAt: number;
  /** What is known so far; kept current so that whatever ends the run can still report it. */
  readonly progress: RunProgress;
  /** What the answers show about who gave them (src/job/evidence.ts). */
  readonly evidence: EvidenceCollector;
}

interface RunProgress {
  responseId: string | undefined;
  lastSeen: ResponseObject | undefined;
  polls: number;
  /** The Idempotency-Key of a create that may have started a response whose id is not known. */
  createMayExist?: string | undefined;
  /** Stream mode only: the stream's timing, for --json (src/job/stream-timing.ts). */
  stream?: StreamStats;
}

/** Opens the report (header first, before anything is checked or sent) and wires the journal and the client. */
export function openSession(
  config: ApiConfig,
  outputPath: string,
  header: ReportHeader,
  io: Io,
  clock: Clock = systemClock,
  consoleOptions: ConsoleOptions = PLAIN_CONSOLE,
  /** Write the report only on `report.release()` (poll: once the API knows the id). */
  holdReport = false,
): Session {
  // The report is the other place output leaves the process: it masks with the process's
  // Redactor, which learnt the key and proxy credentials where they entered (main, the .env file).
  const { redactor } = io;
  const startedAt = clock.monotonic();
  const command = commandLine(io.argv);
  const report = (holdReport ? RunReport.openHeld : RunReport.open)(resolve(io.cwd, outputPath), withWhereItRan(header, command, config), redactor, command);
  try {
    const progress = chooseProgress({ stderr: io.stderr, options: consoleOptions }, clock, startedAt);
    const journal = new Journal(progress, report, () => clock.now());
    const evidence = new EvidenceCollector();
    const client = createApiClient(config, journal, clock, evidence);
    return { baseUrl: config.network.baseUrl.href, report, journal, client, clock, startedAt, progress: { responseId: undefined, lastSeen: undefined, polls: 0 }, evidence };
  } catch (error) {
    // Nothing was sent: let go of the report's lock, so the path is free for the next run.
    report.close();
    throw error;
  }
}

/**
 * The report's configuration with what a reader needs to repeat the run or tell runs apart:
 * the command line as typed, the host and Node, and the proxy in effect (the report's redactor
 * masks any secret in them), right under the `Command` row.
 */
function withWhereItRan(header: ReportHeader, command: string, config: ApiConfig): ReportHeader {
  const rows = [...header.configuration];
  const added: [string, string][] = [
    ['Command line', command],
    ['Host', `${hostname()} (${process.platform} ${process.arch}, Node ${process.version})`],
  ];
  if (!rows.some(([label]) => label === 'Proxy')) added.push(['Proxy', config.network.proxyExplanation]);
  const at = rows.findIndex(([label]) => label === 'Command');
  rows.splice(at + 1, 0, ...added);
  return { ...header, configuration: rows };
}

export function elapsedSeconds(session: Session): number {
  return (session.clock.monotonic() - session.startedAt) / 1000;
}

/**
 * Records the response id the moment it is known: in the run's progress first (what every
 * ending reads), then in the report, so even `kill -9` leaves it. Never throws: a report that
 * cannot be written must not take the place of the answer that carries the id.
 */
export function noteResponse(session: Session, response: ResponseObject): void {
  if (session.progress.responseId !== response.id) {
    session.progress.responseId = response.id;
    session.report.setResponseId(response.id);
  }
  session.progress.lastSeen = response;
}
