import type { Dispatcher } from 'undici';
import { ProtocolError } from '../errors.js';
import { readStreamEvent, SseParser, type StreamEvent } from './sse.js';
import { toNetworkError } from './transport-errors.js';

/**
 * The events of an opened stream's body as they arrive (src/api/sse.ts reads the frames). A drop
 * becomes a NetworkError that says the request was delivered; the body is destroyed when the
 * reading ends, and `onEnd` is told how (the failure's text, or undefined).
 */
export async function* readEvents(
  body: Dispatcher.ResponseData['body'],
  maxResponseBytes: number,
  what: string,
  host: string,
  onEnd: (failure: string | undefined) => void,
): AsyncGenerator<StreamEvent> {
  const parser = new SseParser(maxResponseBytes);
  let failure: string | undefined;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      for (const frame of parser.push(chunk)) {
        const event = readStreamEvent(frame);
        if (event) yield event;
      }
    }
    for (const frame of parser.end()) {
      const event = readStreamEvent(frame);
      if (event) yield event;
    }
  } catch (error) {
    const thrown = error instanceof ProtocolError ? error : toNetworkError(error, `${what} (reading its event stream)`, host, true);
    failure = thrown.message;
    throw thrown;
  } finally {
    body.destroy();
    onEnd(failure);
  }
}
