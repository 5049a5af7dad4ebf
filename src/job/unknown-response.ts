import { ApiError, BgprobeError } from '../errors.js';
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
 * Only the API's own 404 about this id counts: a 404 from a proxy or a wrong base URL (the
 * API's "Invalid URL (GET /responses/…)" names the id too) says nothing about the response.
 */
export function isUnknownResponse(error: unknown, id: string): error is ApiError {
  if (!(error instanceof ApiError) || error.status !== 404 || error.details.answeredBy !== 'api') return false;
  const message = error.details.apiError?.message ?? '';
  return message.includes(id) && /\bnot found\b/i.test(message) && !/^Invalid URL/i.test(message);
}
