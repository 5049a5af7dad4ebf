import { closeSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Exchange } from '../api/client.js';
import { SetupError } from '../errors.js';
import type { Redactor } from '../redact.js';
import { summaryTable, timelineSection, usageTable, type StatusNote, type SummaryFacts } from './lifecycle.js';
import { jsonPieces } from './json-pieces.js';
import { codeBlock, fencedPieces, table, tableRow } from './markdown.js';
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
  /** The summary table under the title, once the run has ended. */
  readonly summary: Omit<SummaryFacts, 'responseId'>;
  /** `## Final Model Output`: the text, or a note saying why there is none. */
  readonly outputText: string | undefined;
  readonly noOutputNote: string;
  /** `## Final Response Payload`: the last Response object, pretty-printed JSON. */
  readonly payload: unknown;
}

/** Characters gathered before each write of the report. */
const WRITE_CHARS = 64 * 1024;

const EXCHANGE_COLUMNS = ['Time (UTC)', 'Method', 'Path', 'Status', 'Duration (ms)', 'x-request-id'];

/**
 * The Markdown report, rewritten in full (to a temporary file, then renamed over the report)
 * each time something happens, so its sections stay in order and a killed run always leaves
 * a complete, readable file with every event up to that moment.
 */
export class RunReport {
  readonly path: string;
  readonly #header: ReportHeader;
  readonly #redactor: Redactor;
  readonly #events: string[] = [];
  readonly #exchanges: string[] = [];
  #responseId: string | undefined;
  /** The moments the status changed, for the timeline; and the latest note, for the summary while running. */
  readonly #changes: StatusNote[] = [];
  #latest: StatusNote | undefined;
  #ending: ReportEnding | undefined;
  /** Written nowhere yet (see `openHeld`): events gather until `release()`. */
  #held = false;

  private constructor(path: string, header: ReportHeader, redactor: Redactor) {
    this.path = path;
    this.#header = header;
    this.#redactor = redactor;
  }

  /** Creates the report (and its folders) and writes the header; fails before any request when it cannot. */
  static open(path: string, header: ReportHeader, redactor: Redactor): RunReport {
    const report = new RunReport(path, header, redactor);
    try {
      makeFolders(dirname(path));
    } catch (error) {
      throw unwritable(path, error);
    }
    report.#persist();
    return report;
  }

  /**
   * Like `open`, but the file is written only on `release()`: `poll` holds its report until the
   * API has shown it knows the id, so a mistyped id leaves no report behind (and replaces no
   * file at that path). The path is still checked now, before any request.
   */
  static openHeld(path: string, header: ReportHeader, redactor: Redactor): RunReport {
    const report = new RunReport(path, header, redactor);
    try {
      makeFolders(dirname(path));
      probeWritable(path);
    } catch (error) {
      throw unwritable(path, error);
    }
    report.#held = true;
    return report;
  }

  /** Writes a held report, with everything gathered so far; from then on, as `open` does. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.#persist();
  }

  addEvent(event: LogEvent): void {
    this.#events.push(`- ${event.time.toISOString()} [${event.level}] ${oneLine(event.message)}\n`);
    this.#persist();
  }

  addExchange(exchange: Exchange): void {
    this.#exchanges.push(
      tableRow([
        exchange.startedAt.toISOString(),
        exchange.method,
        exchange.path,
        exchange.status ?? `no answer (${exchange.error ?? 'error'})`,
        Math.round(exchange.durationMs),
        exchange.requestId,
      ]),
    );
    this.#persist();
  }

  /** Records the response id the moment it is known, so even a killed run names it. */
  setResponseId(id: string): void {
    this.#responseId = id;
    this.#persist();
  }

  /** A status seen by the create or a poll: the summary shows it, the timeline keeps it when it changed. */
  noteStatus(note: StatusNote): void {
    if (this.#latest?.status !== note.status) this.#changes.push(note);
    this.#latest = note;
    this.#persist();
  }

  finish(ending: ReportEnding): void {
    this.#ending = ending;
    this.#persist();
  }

  #persist(): void {
    if (this.#held) return;
    const temporary = `${this.path}.${process.pid}.tmp`;
    let fd: number | undefined;
    try {
      // Never write through whatever sits at the temporary path: in a shared folder such as /tmp,
      // a planted symlink there would have bgprobe overwrite another file.
      removeIfPresent(temporary);
      fd = openSync(temporary, 'wx');
      const file = fd;
      // Small pieces are gathered into writes of about 64 KB; large ones go out as they are.
      let pending = '';
      const flush = () => {
        if (pending) writeSync(file, this.#redactor.apply(pending));
        pending = '';
      };
      for (const chunk of this.#render()) {
        pending += chunk;
        if (pending.length >= WRITE_CHARS) flush();
      }
      flush();
      closeSync(fd);
      fd = undefined;
      renameSync(temporary, this.path);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      // Leave no stray temporary file behind (the report path may be a folder, say); the
      // write's own error is the one to report.
      try {
        removeIfPresent(temporary);
      } catch {
        // nothing more to do
      }
      throw unwritable(this.path, error);
    }
  }

  /** The report as a sequence of pieces, so a 20 MB answer is never copied into one string. */
  *#render(): Generator<string> {
    const h = this.#header;
    yield `# ${h.title}\n\n`;
    yield summaryTable(this.#summaryFacts());
    yield '\n## Run Configuration\n\n';
    yield table(['Setting', 'Value'], h.configuration);
    yield '\n## Prompt Used\n\n';
    for (const part of h.prompt) {
      yield `### ${part.label}\n\n`;
      yield* codeBlock(part.text, 'text');
      yield '\n';
    }
    yield '## Event Log\n\n';
    if (this.#responseId !== undefined) yield `Response id: \`${oneLine(this.#responseId)}\`\n\n`;
    yield* this.#events;
    yield '\n## Outbound Requests\n\n';
    yield table(EXCHANGE_COLUMNS, []);
    yield* this.#exchanges;
    const ending = this.#ending;
    if (!ending) {
      yield '\n_The run is still going, or was stopped before it ended: the sections below are written when it ends._\n';
      return;
    }
    yield '\n## Final Status\n\n';
    yield table(['Field', 'Value'], ending.status);
    yield '\n### Timeline\n\n';
    yield* timelineSection(this.#changes, this.#responseId);
    yield '\n### Usage\n\n';
    yield usageTable(ending.summary.usage);
    yield '\n## Final Model Output\n\n';
    if (ending.outputText === undefined) yield `_${ending.noOutputNote}_\n`;
    else yield* codeBlock(ending.outputText, 'text');
    yield '\n## Final Response Payload\n\n';
    if (ending.payload === undefined) yield '_No Response object was received._\n';
    else yield* fencedPieces(() => jsonPieces(ending.payload), 'json');
  }

  #summaryFacts(): SummaryFacts {
    if (this.#ending) return { ...this.#ending.summary, responseId: this.#responseId };
    const latest = this.#latest;
    return {
      responseId: this.#responseId,
      status: latest ? `running (last seen ${latest.status})` : 'starting',
      elapsedSeconds: latest?.elapsedSeconds ?? 0,
      polls: latest?.polls ?? 0,
      usage: undefined,
    };
  }
}

/**
 * Creates a folder and its missing parents one level at a time. Node 20's
 * `mkdirSync(dir, { recursive: true })` never returns when the kernel answers ENOENT for a
 * parent that exists (any path under /proc): it retries forever at full CPU.
 */
function makeFolders(dir: string): void {
  try {
    if (statSync(dir).isDirectory()) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const parent = dirname(dir);
    if (parent !== dir) makeFolders(parent);
    mkdirSync(dir);
    return;
  }
  throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
}

/** A file can be made in the report's folder, and the report path is not a folder; nothing that is there is touched. */
function probeWritable(path: string): void {
  const probe = `${path}.${process.pid}.probe`;
  removeIfPresent(probe);
  closeSync(openSync(probe, 'wx'));
  removeIfPresent(probe);
  if (isFolder(path)) throw Object.assign(new Error(`${path} is a folder`), { code: 'EISDIR' });
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const WHY_UNWRITABLE: Readonly<Record<string, string>> = {
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOENT: 'its folder cannot be created there',
  ENOSPC: 'no space left on the device',
};

function unwritable(path: string, error: unknown): SetupError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  // ENOENT with the folder there: a file system that takes no new files, such as /proc.
  const why = code === 'ENOENT' && isFolder(dirname(path)) ? 'its folder exists but does not accept new files, like /proc or /sys' : WHY_UNWRITABLE[code];
  return new SetupError(`the report ${JSON.stringify(path)} cannot be written (${code}${why ? `: ${why}` : ''}); choose another --output`, 'report_unwritable', {
    cause: error,
  });
}

/** unlink, where nothing there is fine (rmSync would do the same, but loads a module of its own on first use). */
function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
