import { isUnknownResponse } from '../api/answer.js';
import { type ApiError, BgprobeError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

/**
 * `poll` of an id the API answered 404 for, about that id ("Response with id '…' not found."):
 * a typo, another project's key, or a response gone. Nothing started, so, like a usage error,
 * it ends the command with one line and no report.
 */
export class UnknownResponseError extends BgprobeError {
  override name = 'UnknownResponseError';
  constructor(id: string, cause: ApiError) {
    const api = cause.details.apiError?.message ?? '';
    const requestId = cause.requestId ? `, x-request-id ${cause.requestId}` : '';
    super(
      `the API does not know response ${id} (${cause.details.method} ${cause.details.path}: HTTP 404 ${JSON.stringify(api.slice(0, 200))}${requestId}); check the id, and that the API key belongs to the project that created the response. No report was written`,
      'unknown_response',
      EXIT.failure,
      { cause },
    );
  }
}

/**
 * The API's own 404 (answer.ts's rule) that names this id: only then is the id itself unknown,
 * not the path or the server.
 */
export function apiSaysIdUnknown(error: unknown, id: string): error is ApiError {
  return isUnknownResponse(error) && (error as ApiError).details.apiError?.message?.includes(id) === true;
}
