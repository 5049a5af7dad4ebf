import { randomUUID } from 'node:crypto';
import type { ApiAnswer } from '../api/client.js';
import { createMayHaveStarted } from '../api/retry.js';
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
    super(uncertainText(what, idempotencyKey, 'bgprobe poll RESPONSE_ID'), 'create_uncertain', EXIT.failure, { cause });
    this.#what = what;
  }

  /** The same words with the follow-up command as the run would type it (its --base-url, --proxy, ...). */
  withFollowUp(poll: string): string {
    return uncertainText(this.#what, this.idempotencyKey, poll);
  }
}

function uncertainText(what: string, idempotencyKey: string, poll: string): string {
  return (
    `${what}. A background response may have been created anyway: bgprobe did not resend the create, so as not to start a second job. ` +
    `The account's dashboard (Logs, Responses) can tell; if one exists, follow it with "${poll}", RESPONSE_ID being its id ` +
    `(the request carried Idempotency-Key ${idempotencyKey})`
  );
}

/**
 * Sends the create with a fresh Idempotency-Key (so a resent create can be recognised by the
 * server), and records the id in the report the moment it is known.
 */
export async function submitCreate(
  session: Session,
  body: unknown,
  signal: AbortSignal,
  /** Learns the Idempotency-Key before the create is sent: what names the response until its id comes. */
  tracker?: { sending(idempotencyKey: string): void; settled(): void },
): Promise<ApiAnswer> {
  const key = `bgprobe-${randomUUID()}`;
  session.journal.info(`Submitting the background response (POST create, Idempotency-Key ${key})`);
  tracker?.sending(key);
  let created: ApiAnswer;
  try {
    created = await session.client.create(body, key, signal);
  } catch (error) {
    if (createMayHaveStarted(error)) {
      // The report's Final Status must say the same as its event log: a response may exist.
      session.progress.createMayExist = key;
      throw new CreateUncertainError(error, key);
    }
    throw error;
  } finally {
    tracker?.settled();
  }
  const model = (body as { model?: unknown } | null)?.model;
  session.evidence.noteCreate(created, typeof model === 'string' ? model : undefined);
  noteResponse(session, created.response);
  session.journal.info(`Created response ${created.response.id}: status ${created.response.status ?? '(none)'}`);
  return created;
}
