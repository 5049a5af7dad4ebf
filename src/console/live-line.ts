import type { Clock } from '../job/clock.js';
import { oneLine } from '../text.js';
import { formatDuration, formatEvent, formatExchange, styleFor, styleStatus, type Style } from './format.js';
import type { PollState, Progress, ProgressContext } from './progress.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Moves the cursor one line up: back from the text preview to the status line. */
const CURSOR_UP = '\x1b[1A';
/** Characters of the model's text kept for the preview line. */
const PREVIEW_CHARS = 400;

/** How often the spinner turns and the countdown is redrawn. */
const FRAME_MS = 100;

/** One piece of the status line: its plain text (for width) and how to show it. */
type Segment = readonly [text: string, show: (text: string) => string];

/**
 * The status line of a terminal: spinner, status, elapsed time, poll count and seconds to the
 * next poll (in stream mode: events received and reconnects), redrawn in place with a carriage return. Events still print as whole lines above
 * it. It pads with spaces instead of using erase sequences, so without colour it writes no
 * escape codes at all. The timer is unref'd (it never keeps the process alive) and `stop`
 * clears it and the line.
 */
export function liveProgress(context: ProgressContext, clock: Pick<Clock, 'monotonic'>, startedAt: number): Progress {
  const { stderr, options } = context;
  const style = styleFor(options.color);
  let state: PollState | undefined;
  let frame = 0;
  let shownWidth = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Stream mode: the tail of the model's text, on a line of its own under the status line.
  // Drawing it needs a cursor-up sequence, so it is shown only where colour (escapes) is allowed.
  let preview = '';
  let previewWidth = 0;

  const clear = () => {
    if (previewWidth > 0) stderr.write(`\r${' '.repeat(shownWidth)}\n\r${' '.repeat(previewWidth)}${CURSOR_UP}\r`);
    else if (shownWidth > 0) stderr.write(`\r${' '.repeat(shownWidth)}\r`);
    shownWidth = 0;
    previewWidth = 0;
  };
  const draw = () => {
    if (stopped) return;
    // A pseudo-terminal may report 0 columns (`script` without a size): assume the classic 80.
    const columns = stderr.columns !== undefined && stderr.columns > 0 ? stderr.columns : 80;
    const width = Math.max(20, columns - 1);
    const segments = fitted(statusSegments(state, frame, (clock.monotonic() - startedAt) / 1000, clock.monotonic(), style), width);
    const plain = segments.map(([text]) => text).join('');
    const pad = ' '.repeat(Math.max(0, shownWidth - plain.length));
    stderr.write(`\r${segments.map(([text, show]) => show(text)).join('')}${pad}`);
    shownWidth = plain.length;
    if (preview !== '') {
      const line = preview.slice(-width);
      stderr.write(`\n\r${style.dim(line)}${' '.repeat(Math.max(0, previewWidth - line.length))}${CURSOR_UP}\r`);
      previewWidth = line.length;
    }
  };
  const ensureTimer = () => {
    if (timer || stopped) return;
    timer = setInterval(() => {
      frame = (frame + 1) % SPINNER.length;
      draw();
    }, FRAME_MS);
    timer.unref();
  };
  const above = (text: string) => {
    clear();
    stderr.write(text);
    draw();
    ensureTimer();
  };

  return {
    event: (event) => above(formatEvent(event, style)),
    ...(options.verbosity === 'verbose' ? { exchange: (exchange) => above(formatExchange(exchange, style)) } : {}),
    ...(options.color
      ? {
          outputDelta(text: string) {
            // The model's text is text from elsewhere: one line, no control characters (no escape can reach the terminal).
            preview = `${preview}${text}`
              .replace(/\s+/g, ' ')
              .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '\uFFFD')
              .slice(-PREVIEW_CHARS);
            draw();
            ensureTimer();
          },
        }
      : {}),
    pollState(next) {
      state = next;
      draw();
      ensureTimer();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
      stopped = true;
    },
  } satisfies Progress;
}

/** The pieces of the line, most important first, so a narrow terminal loses the tail. */
export function statusSegments(state: PollState | undefined, frame: number, elapsedSeconds: number, now: number, style: Style): Segment[] {
  const spinner = SPINNER[frame % SPINNER.length] ?? '*';
  // The status is the server's text: it must not clear, recolour or retitle the terminal.
  const status = state ? oneLine(state.status) : 'waiting for the API';
  const segments: Segment[] = [
    [`${spinner} `, style.cyan],
    [status, (text) => (state ? styleStatus(style, text) : text)],
    [`  elapsed ${formatDuration(elapsedSeconds)}`, style.dim],
  ];
  // Stream mode sends no polls: it shows the events received, and the reconnects once a stream broke.
  if (state?.stream) {
    segments.push([`  events ${state.stream.events}`, style.dim]);
    if (state.stream.reconnects > 0) segments.push([`  reconnects ${state.stream.reconnects}`, style.dim]);
  } else if (state) segments.push([`  polls ${state.polls}`, style.dim]);
  if (state?.nextPollAt !== undefined) {
    const seconds = Math.max(0, (state.nextPollAt - now) / 1000);
    const countdown = seconds < 0.05 ? 'polling now' : `next poll in ${seconds < 10 ? seconds.toFixed(1) : Math.ceil(seconds)}s`;
    segments.push([`  ${countdown}`, style.dim]);
  }
  return segments;
}

/** Drops whole segments from the end, then cuts the last one, so the line never wraps (a wrapped line cannot be redrawn). */
function fitted(segments: Segment[], width: number): Segment[] {
  const out: Segment[] = [];
  let used = 0;
  for (const [text, show] of segments) {
    if (used + text.length <= width) {
      out.push([text, show]);
      used += text.length;
    } else {
      if (width - used > 1) out.push([text.slice(0, width - used), show]);
      break;
    }
  }
  return out;
}
