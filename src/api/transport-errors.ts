import { NetworkError, type NetworkStage } from '../errors.js';

/** Node and undici error codes grouped by the stage that failed; none of these reached the server. */
const STAGE_BY_CODE: ReadonlyMap<string, NetworkStage> = new Map([
  ['ENOTFOUND', 'dns'],
  ['EAI_AGAIN', 'dns'],
  ['EAI_FAIL', 'dns'],
  ['ECONNREFUSED', 'connect'],
  ['ENETUNREACH', 'connect'],
  ['EHOSTUNREACH', 'connect'],
  ['ENETDOWN', 'connect'],
  ['EHOSTDOWN', 'connect'],
  ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
]);

/** Failures after the request may have been written: the server may have acted on it. */
const AMBIGUOUS_CODES: ReadonlyMap<string, NetworkStage> = new Map([
  ['ECONNRESET', 'socket'],
  ['EPIPE', 'socket'],
  ['UND_ERR_SOCKET', 'socket'],
  ['UND_ERR_CLOSED', 'socket'],
  ['UND_ERR_DESTROYED', 'socket'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'timeout'],
]);

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|SELF_SIGNED|DEPTH_ZERO|UNABLE_TO_|ERR_OSSL)/;

/** A CONNECT refusal reaches undici 7 only as UND_ERR_ABORTED with the status in its message. */
const PROXY_REFUSAL = /Proxy response \((\d{3})\) !== 200/;

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Walks the cause chain (fetch and proxies nest the real error) for the first error with a code. */
export function rootCoded(error: unknown): { code: string | undefined; message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    const code = errorCode(current);
    if (code) return { code, message: (current as Error).message ?? String(current) };
    current = (current as { cause?: unknown }).cause;
  }
  return { code: undefined, message: error instanceof Error ? error.message : String(error) };
}

/**
 * Turns whatever undici or Node threw into a NetworkError naming the stage and what to do.
 * `written`: whether undici had written the whole request (src/api/client.ts watches it);
 * when it had not, nothing reached the server whatever the error, so the request may be sent
 * again; when unknown, the error code decides.
 */
export function toNetworkError(error: unknown, what: string, target: string, written?: boolean): NetworkError {
  const classified = classify(error, what, target);
  if (written === false && classified.maybeDelivered) return notWritten(classified, what, target);
  if (written === true && !classified.maybeDelivered && classified.stage !== 'proxy') {
    return new NetworkError(classified.message, classified.stage === 'tls' ? 'tls' : 'socket', true, { cause: classified.cause });
  }
  return classified;
}

/** The same failure, said as what it was: the request never left, so nothing can have been created. */
function notWritten(error: NetworkError, what: string, target: string): NetworkError {
  if (error.stage === 'timeout') {
    // The stage stays `timeout`, so a proxy's silence is still recognised (src/egress/tunnel-watch.ts).
    return new NetworkError(`${what}: the connection to ${target} did not complete within --timeout; the request was never sent`, 'timeout', false, { cause: error.cause ?? error });
  }
  const { code, message } = rootCoded(error.cause ?? error);
  const label = code ? `${code}: ${message}` : message;
  return new NetworkError(`${what}: the connection to ${target} failed before the request was sent (${label})`, 'connect', false, { cause: error.cause ?? error });
}

function classify(error: unknown, what: string, target: string): NetworkError {
  if (error instanceof NetworkError) return error;
  const { code, message } = rootCoded(error);
  const proxyStatus = PROXY_REFUSAL.exec(message)?.[1];
  if (proxyStatus) {
    return new NetworkError(
      `${what}: the proxy refused the tunnel to ${target} (CONNECT answered HTTP ${proxyStatus}); the egress policy must allow ${target}`,
      'proxy',
      false,
      { cause: error },
    );
  }
  const label = code ? `${code}: ${message}` : message;
  const known = code ? STAGE_BY_CODE.get(code) : undefined;
  if (known) return new NetworkError(`${what}: ${describeStage(known)} ${target} failed (${label})`, known, false, { cause: error });
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    // A date, not trust: no CA option fixes it.
    return new NetworkError(`${what}: the TLS handshake with ${target} failed (${label}): a certificate of the chain has expired or is not valid yet: check this machine's clock, or the certificate the server (or a proxy that re-signs TLS) presents`, 'tls', false, { cause: error });
  }
  if (code && TLS_CODE.test(code)) {
    return new NetworkError(
      `${what}: the TLS handshake with ${target} failed (${label}); if a proxy intercepts TLS, trust its CA with --ca-file, --system-ca or NODE_EXTRA_CA_CERTS`,
      'tls',
      false,
      { cause: error },
    );
  }
  const ambiguous = code ? AMBIGUOUS_CODES.get(code) : undefined;
  if (ambiguous) return new NetworkError(`${what}: ${describeStage(ambiguous)} ${target} failed (${label})`, ambiguous, true, { cause: error });
  return new NetworkError(`${what}: the request to ${target} failed (${label})`, 'unknown', true, { cause: error });
}

function describeStage(stage: NetworkStage): string {
  switch (stage) {
    case 'dns':
      return 'the DNS lookup for';
    case 'connect':
      return 'the TCP connection to';
    case 'timeout':
      return 'waiting for the answer of';
    case 'socket':
      return 'the connection to';
    default:
      return 'the request to';
  }
}
