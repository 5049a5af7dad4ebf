import { oneLine } from '../text.js';
import type { Exchange } from '../api/client.js';
import type { LogEvent } from '../report/report.js';

/** Text styles for stderr on a terminal. Every function is the identity when colour is off. */
export interface Style {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly green: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly cyan: (text: string) => string;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

export function styleFor(color: boolean): Style {
  if (!color) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

/** Green for completed, yellow while it runs, red for any other terminal status. */
export function styleStatus(style: Style, status: string): string {
  if (status === 'completed') return style.green(status);
  if (status === 'queued' || status === 'in_progress') return style.yellow(status);
  return style.red(status);
}

/** `4.2s` under a minute, `3m 07s` above, `1h 02m` above an hour: short enough for one line. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(1)}s`;
  const whole = Math.floor(s);
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line per event: ISO time, level, message; WARN and ERROR coloured when colour is on. */
export function formatEvent(event: LogEvent, style: Style): string {
  const level = event.level.padEnd(5);
  const shown = event.level === 'ERROR' ? style.red(level) : event.level === 'WARN' ? style.yellow(level) : style.dim(level);
  return `${style.dim(event.time.toISOString())} ${shown} ${oneLine(event.message)}\n`;
}

/**
 * --verbose: the request line and headers, then the answer's status and headers. The
 * client masks Authorization before it gets here; the Redactor masks whatever else echoes a key.
 */
export function formatExchange(exchange: Exchange, style: Style): string {
  const outcome = exchange.status === undefined ? `no answer (${exchange.error ?? 'error'})` : `HTTP ${exchange.status}`;
  const lines = [`${style.dim(exchange.startedAt.toISOString())} ${style.cyan('HTTP ')} ${exchange.method} ${exchange.path} -> ${outcome} in ${Math.round(exchange.durationMs)} ms`];
  for (const [name, value] of Object.entries(exchange.requestHeaders ?? {})) lines.push(`  ${style.dim('>')} ${name}: ${value}`);
  for (const [name, value] of Object.entries(exchange.responseHeaders)) lines.push(`  ${style.dim('<')} ${name}: ${value}`);
  return `${lines.join('\n')}\n`;
}
