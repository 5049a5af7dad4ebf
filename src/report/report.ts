import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Exchange } from '../api/client.js';
import { SetupError } from '../errors.js';
import type { Redactor } from '../redact.js';
import { summaryTable, timelineSection, usageTable, type StatusNote, type SummaryFacts } from './lifecycle.js';
import { jsonPieces } from './json-pieces.js';
import { codeBlock, fencedPieces, table, tableRow } from './markdown.js';
import { renderedAnswer } from './rendered-answer.js';
import { ReportFile } from './report-file.js';
import { oneLine } from '../text.js';

export type Level = 'INFO' | 'WARN' | 'ERROR';

export interface LogEvent {
  readonly time: Date;
  readonly level: Level;
  readonly message: string;
}

export interface ReportHeader {
  readonly title: string;
  /** Label and value rows of `## Run Configuration`. */
  readonly configuration: readonly (readonly [string, string])[];
  /** `## Prompt Used`: the texts sent, or a note when the command sends none. */
  readonly prompt: readonly { readonly label: string; readonly text: string }[];
}

/** The closing sections, written once when the run ends (or is interrupted). */
export interface ReportEnding {
  /** Label and value rows of `## Final Status`. */
  readonly status: readonly (readonly [string, string])[];
  /** The error that ended the run, when one did: a row of `## Final Status`, not only an event. */
  readonly error?: string | undefined;
  /** The exit code bgprobe ends with: the last row of `## Final Status`. */
  readonly exitCode?: number | undefined;
  /** The summary table under the title, once the run has ended. */
  readonly summary: Omit<SummaryFacts, 'responseId'>;
  /** `## Final Model Output`: the text, or a note saying why there is none. */
  readonly outputText: string | undefined;
  readonly noOutputNote: string;
  /** `## Final Response Payload`: the last Response object, pretty-printed JSON. */
  readonly payload: unknown;
}

const EXCHANGE_COLUMNS = ['Time (UTC)', 'Method', 'Path', 'Status', 'Duration (ms)', 'x-request-id'];

/** Says, at the top of a report whose run has not ended, what the file is. */
const LIVE_NOTE =
  '_The run is still going, or was stopped before it ended: this is its live log, with every event and request so far. ' +
  'The complete report (summary, Outbound Requests, Final Status, the output and the payload) replaces it when the run ends._\n\n';

/**
 * The Markdown report. While the run goes, the file is a live log: the title, the
 * configuration and the prompt written once, then one line appended per event, request and id,
 * so the bytes written per event do not grow with the run and a killed run leaves a readable
 * file naming the id and every event so far. When the run ends, the complete document (its
 * sections in design.md's order) replaces the log in one step.
 *
 * Writing never throws into the run: a write that fails (the disk full, the folder removed)
 * is kept as `failure`, the file keeps its last complete state, and nothing more is written.
 * The run reads `failure` where it can end with the response id in hand (Journal.pollState,
 * and the ending).
 */
export class RunReport {
  /** The path as given (resolved against the working folder): what "Report written to" names. */
  readonly path: string;
  readonly #header: ReportHeader;
  readonly #file: ReportFile;
  readonly #events: string[] = [];
  readonly #exchanges: string[] = [];
  #responseId: string | undefined;
  /** The moments the status changed, for the timeline. */
  readonly #changes: StatusNote[] = [];
  #latest: StatusNote | undefined;
  #failure: SetupError | undefined;
  #complete = false;
  /** While held (see `openHeld`), the live log's lines gathered for `release()`. */
  #held: string[] | undefined = [];

  private constructor(path: string, header: ReportHeader, file: ReportFile) {
    this.path = path;
    this.#header = header;
    this.#file = file;
  }

  /**
   * Creates the report (and its folders) and writes its first part; fails before any request
   * when it cannot, or when another live run is writing the same report. `command` names this
   * run in the lock, for a second run's refusal.
   */
  static open(path: string, header: ReportHeader, redactor: Redactor, command = 'bgprobe'): RunReport {
    const report = RunReport.openHeld(path, header, redactor, command);
    report.release();
    if (report.#failure) throw report.#failure;
    return report;
  }

  /**
   * Like `open`, but nothing is written until `release()`: `poll` holds its report until the
   * API has shown it knows the id, so a mistyped id leaves no report behind (and replaces no
   * file at that path). The path is checked and locked now, before any request.
   */
  static openHeld(path: string, header: ReportHeader, redactor: Redactor, command = 'bgprobe'): RunReport {
    let file: ReportFile;
    try {
      file = ReportFile.prepare(path, redactor, oneLine(redactor.apply(command)));
    } catch (error) {
      throw error instanceof SetupError ? error : unwritable(path, error, false);
    }
    return new RunReport(path, header, file);
  }

  /** Writes a held report's live log, with everything gathered so far; from then on, events are appended as they come. */
  release(): void {
    if (this.#held === undefined) return;
    const gathered = this.#held;
    this.#held = undefined;
    if (this.#complete || this.#failure) return;
    try {
      this.#file.begin([...liveHead(this.#header), ...gathered].join(''));
    } catch (error) {
      this.#failure = unwritable(this.path, error, false);
      this.#file.close();
    }
  }

  /** The first write that failed: the report is then not complete, and nothing more is written. */
  get failure(): SetupError | undefined {
    return this.#failure;
  }

  /** Whether the complete document was written: only then may anyone say "Report written to". */
  get complete(): boolean {
    return this.#complete;
  }

  addEvent(event: LogEvent): void {
    const line = `- ${event.time.toISOString()} [${event.level}] ${oneLine(event.message)}\n`;
    this.#events.push(line);
    this.#append(line);
  }

  addExchange(exchange: Exchange): void {
    const status = exchange.status ?? `no answer (${exchange.error ?? 'error'})`;
    const duration = Math.round(exchange.durationMs);
    this.#exchanges.push(tableRow([exchange.startedAt.toISOString(), exchange.method, exchange.path, status, duration, exchange.requestId]));
    const requestId = exchange.requestId ? `, ${exchange.requestId}` : '';
    this.#append(`${oneLine(`- ${exchange.startedAt.toISOString()} [HTTP] ${exchange.method} ${exchange.path}: ${status} in ${duration} ms${requestId}`)}\n`);
  }

  /** Records the response id the moment it is known, so even a killed run names it. */
  setResponseId(id: string): void {
    if (this.#responseId === id) return;
    this.#responseId = id;
    this.#append(`- Response id: \`${idText(id)}\`\n`);
  }

  /** A status seen by the create or a poll: the timeline keeps it when it changed (the events already say it). */
  noteStatus(note: StatusNote): void {
    if (this.#latest?.status !== note.status) this.#changes.push(note);
    this.#latest = note;
  }

  /**
   * Writes the complete document, once; a run that already ended or can no longer write keeps
   * what it has, and a report still held is never written.
   */
  finish(ending: ReportEnding): void {
    if (this.#complete || this.#failure || this.#held) {
      this.#file.close();
      return;
    }
    try {
      this.#file.replace(this.#render(ending));
      this.#complete = true;
    } catch (error) {
      this.#failure = unwritable(this.path, error);
    }
    this.#file.close();
  }

  /** Lets go of the file and its lock, finished or not (a run that ends by an error before its ending). */
  close(): void {
    this.#file.close();
  }

  #append(text: string): void {
    if (this.#held) {
      this.#held.push(text);
      return;
    }
    if (this.#complete || this.#failure) return;
    try {
      this.#file.append(text);
    } catch (error) {
      this.#failure = unwritable(this.path, error);
      this.#file.close();
    }
  }

  /** The complete report as a sequence of pieces, so a 20 MB answer is never copied into one string. */
  *#render(ending: ReportEnding): Generator<string> {
    const h = this.#header;
    yield `# ${h.title}\n\n`;
    yield summaryTable({ ...ending.summary, responseId: this.#responseId });
    yield* headSections(h);
    // The id is the server's text: one line, and no backtick that would end the code span.
    if (this.#responseId !== undefined) yield `Response id: \`${idText(this.#responseId)}\`\n\n`;
    yield* this.#events;
    yield '\n## Outbound Requests\n\n';
    yield table(EXCHANGE_COLUMNS, []);
    yield* this.#exchanges;
    yield '\n## Final Status\n\n';
    const rows = [...ending.status];
    if (ending.error !== undefined) rows.push(['Error', ending.error]);
    if (ending.exitCode !== undefined) rows.push(['Exit code', String(ending.exitCode)]);
    yield table(['Field', 'Value'], rows);
    yield '\n### Timeline\n\n';
    yield* timelineSection(this.#changes, this.#responseId);
    yield '\n### Usage\n\n';
    yield usageTable(ending.summary.usage);
    yield '\n## Final Model Output\n\n';
    if (ending.outputText === undefined) yield `_${oneLine(ending.noOutputNote)}_\n`;
    else {
      yield* codeBlock(ending.outputText, 'text');
      yield* renderedAnswer(ending.outputText);
    }
    yield '\n## Final Response Payload\n\n';
    if (ending.payload === undefined) yield '_No Response object was received._\n';
    else yield* fencedPieces(() => jsonPieces(ending.payload), 'json');
  }
}

/** A response id (the server's text) inside a code span: one line, no backtick to end the span. */
function idText(id: string): string {
  return oneLine(id).replace(/`/g, "'");
}

/** The live log's first part: the title, what the file is, the configuration, the prompt, and the Event Log's heading. */
function* liveHead(header: ReportHeader): Generator<string> {
  yield `# ${header.title}\n\n`;
  yield LIVE_NOTE;
  yield* headSections(header);
}

/** `## Run Configuration`, `## Prompt Used`, and the `## Event Log` heading: the same in the live log and the report. */
function* headSections(h: ReportHeader): Generator<string> {
  yield '\n## Run Configuration\n\n';
  yield table(['Setting', 'Value'], h.configuration);
  yield '\n## Prompt Used\n\n';
  for (const part of h.prompt) {
    yield `### ${part.label}\n\n`;
    yield* codeBlock(part.text, 'text');
    yield '\n';
  }
  yield '## Event Log\n\n';
}

const WHY_UNWRITABLE: Readonly<Record<string, string>> = {
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file size limit was reached',
  EIO: 'the write was cut short',
  ENXIO: 'a FIFO with no reader, or a device that is not there',
  ENOTREG: 'not a file, a character device or a FIFO',
  ELOOP: 'too many levels of symbolic links',
};

function unwritable(path: string, error: unknown, running = true): SetupError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const why = code === 'ENOENT' ? whyMissing(path, running) : WHY_UNWRITABLE[code];
  return new SetupError(`the report ${JSON.stringify(path)} cannot be written (${code}${why ? `: ${why}` : ''}); choose another --output`, 'report_unwritable', {
    cause: error,
  });
}

/** ENOENT: at the start, a folder that cannot be made or takes no new files (/proc); later, the report or its folder was removed. */
function whyMissing(path: string, running: boolean): string {
  if (running) return 'the report or its folder was removed';
  try {
    if (statSync(dirname(path)).isDirectory()) return 'its folder exists but does not accept new files, like /proc or /sys';
  } catch {
    // the folder itself is missing
  }
  return 'its folder cannot be created there';
}
