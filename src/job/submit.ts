import { randomUUID } from 'node:crypto';
import type { ApiAnswer } from '../api/client.js';
import { requestMayHaveActed } from '../api/retry.js';
import { BgprobeError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { noteResponse, type Session } from './session.js';

/**
 * A create failed in a way that may still have started a paid job: the request may have
 * reached the API before the connection broke, or a gateway answered in its place.
 * bgprobe does not resend it, so it never starts a second job by accident.
 */
export class CreateUncertainError extends BgprobeError {
  override name = 'CreateUncertainError';
  readonly #what: string;
  constructor(
    cause: unknown,
    readonly idempotencyKey: string,
  ) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super(uncertainText(what, idempotencyKey, followUnknownId('bgprobe poll RESPONSE_ID')), 'create_uncertain', EXIT.failure, { cause });
    this.#what = what;
  }

  /** The same words with the follow-up as the run would say it (outcome.ts `unknownIdFollowUp`: its --base-url, --proxy, ...). */
  withFollowUp(followUp: string): string {
    return uncertainText(this.#what, this.idempotencyKey, followUp);
  }
}

/** How to find and follow a response whose id is not known, with `poll` as the command to follow it. */
export function followUnknownId(poll: string): string {
  return `The account's dashboard (Logs, Responses) can tell; if one exists, follow it with "${poll}", RESPONSE_ID being its id`;
}

function uncertainText(what: string, idempotencyKey: string, followUp: string): string {
  return (
    `${what}. A background response may have been created anyway: bgprobe did not resend the create, so as not to start a second job. ` +
    `${followUp} (the request carried Idempotency-Key ${idempotencyKey})`
  );
}

/** What a create tells the supervisor, from when it is sent to when it is answered or failed (supervise.ts). */
export interface CreateTracker {
  sending(idempotencyKey: string): void;
  settled(): void;
}

/**
 * The rule of every create, plain or streamed: a fresh Idempotency-Key (so a resent create can
 * be recognised by the server), logged and handed to the supervisor before anything is sent
 * (what names the response until its id comes); and a failure after the request may have
 * reached the API becomes CreateUncertainError, which the report's Final Status repeats.
 * `send` may throw CreateUncertainError itself (a stream cut before its first event);
 * `explain` adds to the words of a failure that may have created a response.
 */
export async function sendCreate<T>(
  session: Session,
  what: string,
  tracker: CreateTracker | undefined,
  send: (idempotencyKey: string) => Promise<T>,
  explain: (error: unknown) => unknown = (error) => error,
): Promise<T> {
  const key = `bgprobe-${randomUUID()}`;
  session.journal.info(`Submitting ${what} (POST create, Idempotency-Key ${key})`);
  tracker?.sending(key);
  try {
    return await send(key);
  } catch (error) {
    const uncertain = error instanceof CreateUncertainError ? error : requestMayHaveActed(error) ? new CreateUncertainError(explain(error), key) : undefined;
    if (uncertain === undefined) throw error;
    // The report's Final Status must say the same as its event log: a response may exist.
    session.progress.createMayExist = key;
    throw uncertain;
  } finally {
    tracker?.settled();
  }
}

/** The polled create: sent by `sendCreate`, the id recorded in the report the moment it is known. */
export async function submitCreate(session: Session, body: unknown, signal: AbortSignal, tracker?: CreateTracker): Promise<ApiAnswer> {
  const created = await sendCreate(session, 'the background response', tracker, (key) => session.client.create(body, key, signal));
  session.evidence.noteCreate(created, modelOf(body));
  noteResponse(session, created.response);
  session.journal.info(`Created response ${created.response.id}: status ${created.response.status ?? '(none)'}`);
  return created;
}

/** The model the create body names, for the evidence of who answered. */
export function modelOf(body: unknown): string | undefined {
  const model = (body as { model?: unknown } | null)?.model;
  return typeof model === 'string' ? model : undefined;
}
