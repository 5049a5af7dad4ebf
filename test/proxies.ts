import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { listenOnLoopback } from './loopback.js';
import { makeLeaf, type TestCa } from './tls-fixtures.js';

/**
 * Real proxies on loopback, written against node:net so that each behaves exactly like the
 * sandbox proxy it stands for: an allowlisting CONNECT proxy (403 with `x-proxy-error`, 407),
 * one that drops CONNECT without answering (nodejs/undici#3897), a TLS-intercepting proxy that
 * allows only some methods, and a listener that accepts and never answers.
 */
export interface TestProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Every CONNECT seen: its target and Proxy-Authorization header. */
  readonly connects: { readonly target: string; readonly authorization: string | undefined }[];
  /** Requests seen inside intercepted tunnels. */
  readonly requests: { readonly method: string; readonly path: string }[];
}

interface Head {
  readonly method: string;
  readonly target: string;
  readonly headers: Record<string, string>;
  readonly rest: Buffer;
}

/** Reads one request head from a raw socket, then stops reading. */
function readHead(socket: Socket, onHead: (head: Head) => void): void {
  let buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffer = Buffer.concat([buffer, chunk]);
    // A TLS ClientHello (record type 0x16) is not HTTP: answer as a real proxy does, with a 400.
    if (buffer[0] === 0x16) {
      socket.off('data', onData);
      onHead({ method: '', target: '', headers: {}, rest: Buffer.alloc(0) });
      return;
    }
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.off('data', onData);
    const [requestLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
    const [method = '', target = ''] = requestLine.split(' ');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    onHead({ method, target, headers, rest: buffer.subarray(end + 4) });
  };
  socket.on('data', onData);
  socket.on('error', () => {});
}


function refuse(socket: Socket, status: string, headers: Record<string, string>, body: string): void {
  const lines = [`HTTP/1.1 ${status}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export interface ConnectProxyOptions {
  /** host:port targets the proxy lets through; others get 403 `x-proxy-error: blocked-by-allowlist`. */
  readonly allow?: readonly string[];
  /** Basic credentials it requires (407 otherwise). */
  readonly credentials?: { readonly user: string; readonly password: string };
  /** Close the connection on CONNECT without answering, as proxy-chain does when the upstream fails. */
  readonly dropConnect?: boolean;
  /** Reset the connection (TCP RST) on CONNECT without answering. */
  readonly resetConnect?: boolean;
  /** Answer CONNECT with 200, then reset the tunnel when the client starts TLS (an SNI filter). */
  readonly resetAfterConnect?: boolean;
  /** Refuse every CONNECT with exactly this answer (a squid error page, a 502 from a failed upstream). */
  readonly refusal?: { readonly status: string; readonly headers: Record<string, string>; readonly body: string };
  /** Serve the proxy itself over TLS (an https:// proxy) with this key and certificate chain. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** A plain CONNECT proxy with a host allowlist: it cannot see methods inside the tunnel. */
export async function startConnectProxy(t: TestContext, options: ConnectProxyOptions = {}): Promise<TestProxy> {
  const connects: TestProxy['connects'][number][] = [];
  const make = options.tls ? (handler: (socket: Socket) => void) => createTlsServer({ key: options.tls?.key, cert: options.tls?.cert }, handler) : createServer;
  const server = make((socket: Socket) =>
    readHead(socket, (head) => {
      if (head.method === '') return refuse(socket, '400 Bad Request', { 'content-type': 'text/plain' }, 'not HTTP');
      if (head.method !== 'CONNECT') return refuse(socket, '405 Method Not Allowed', { 'content-type': 'text/plain' }, 'CONNECT only');
      connects.push({ target: head.target, authorization: head.headers['proxy-authorization'] });
      if (options.dropConnect) return void socket.end();
      if (options.resetConnect) return void socket.resetAndDestroy();
      if (options.resetAfterConnect) {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        return void socket.once('data', () => socket.resetAndDestroy());
      }
      if (options.refusal) return refuse(socket, options.refusal.status, options.refusal.headers, options.refusal.body);
      if (options.credentials) {
        const expected = `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`;
        if (head.headers['proxy-authorization'] !== expected) {
          return refuse(socket, '407 Proxy Authentication Required', { 'proxy-authenticate': 'Basic realm="test"', 'content-type': 'text/plain' }, 'credentials needed');
        }
      }
      if (options.allow && !options.allow.includes(head.target)) {
        return refuse(socket, '403 Forbidden', { 'x-proxy-error': 'blocked-by-allowlist', server: 'envoy', 'content-type': 'text/plain' }, `domain not in allowlist: ${head.target}`);
      }
      const [host = '', port = '443'] = splitTarget(head.target);
      const upstream = connect({ host, port: Number(port) }, () => {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (head.rest.length > 0) upstream.write(head.rest);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
    }),
  );
  const port = await listenOnLoopback(t, server);
  return { url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, connects, requests: [] };
}

function splitTarget(target: string): [string, string] {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  return [match?.[1] ?? target, match?.[2] ?? '443'];
}

export interface InterceptingProxyOptions {
  /** The proxy's own CA: it re-signs every tunnel with a certificate from it. */
  readonly ca: TestCa;
  /** The CA the real upstream (the emulator) uses, which the proxy trusts. */
  readonly upstreamCa: string;
  /** Methods it forwards; others get its own 403 `x-proxy-error: blocked-by-method-policy`. */
  readonly allowMethods: readonly string[];
  /**
   * Send only the leaf certificate, as mitmproxy and most real interceptors do; by default the
   * chain holds the proxy's CA too, which lets a client match the CA without the issuer test.
   */
  readonly leafOnly?: boolean;
}

/** A TLS-intercepting proxy, like a sandbox's "limited" mode: it answers CONNECT, then reads each request. */
export async function startInterceptingProxy(t: TestContext, options: InterceptingProxyOptions): Promise<TestProxy> {
  const connects: TestProxy['connects'][number][] = [];
  const requests: TestProxy['requests'][number][] = [];
  const leaf = makeLeaf(options.ca, 'intercepted by bgprobe test proxy');
  const targets = new WeakMap<object, string>();
  const inner = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const target = targets.get(req.socket) ?? '';
    requests.push({ method: req.method ?? '', path: req.url ?? '' });
    if (!options.allowMethods.includes(req.method ?? '')) {
      req.resume();
      const decision = JSON.stringify({ decision: 'deny', reason: 'method_not_allowed', protocol: 'https', host: target });
      res.writeHead(403, { 'content-type': 'text/plain', 'x-proxy-error': 'blocked-by-method-policy' });
      res.end(`CODEX_NETWORK_POLICY_DECISION ${decision}\nblocked this request: method not allowed in limited mode.\n`);
      return;
    }
    const [host = '', port = '443'] = splitTarget(target);
    const upstream = httpsRequest({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers, ca: options.upstreamCa }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const server = createServer((socket) =>
    readHead(socket, (head) => {
      connects.push({ target: head.target, authorization: head.headers['proxy-authorization'] });
      if (head.method !== 'CONNECT') return refuse(socket, '405 Method Not Allowed', {}, '');
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.rest.length > 0) socket.unshift(head.rest);
      const cert = options.leafOnly ? leaf.chain.slice(0, leaf.chain.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length) : leaf.chain;
      const tls = new TLSSocket(socket, { isServer: true, key: leaf.key, cert });
      tls.on('error', () => socket.destroy());
      targets.set(tls, head.target);
      inner.emit('connection', tls);
    }),
  );
  const port = await listenOnLoopback(t, server);
  return { url: `http://127.0.0.1:${port}`, port, connects, requests };
}

/** Accepts TCP connections and never sends a byte: a black hole that completes the handshake. */
export async function startSilentListener(t: TestContext): Promise<{ readonly port: number; accepted: number }> {
  const state = { port: 0, accepted: 0 };
  const server = createServer((socket) => {
    state.accepted += 1;
    socket.on('error', () => {});
  });
  state.port = await listenOnLoopback(t, server);
  return state;
}

/**
 * A proxy that refuses every CONNECT with a page echoing the request's headers (as some do), so
 * a test can check that the credentials bgprobe sent (Proxy-Authorization) never reach the output.
 */
export async function startEchoingRefusalProxy(t: TestContext): Promise<number> {
  const proxy = createHttpServer();
  proxy.on('connect', (req: IncomingMessage, socket: Socket) => {
    const echo = Object.entries(req.headers).map(([name, value]) => `${name}: ${String(value)}`).join('<br>');
    const body = `<html><head><title>Denied</title></head><body>${echo}</body></html>`;
    socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/html\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return listenOnLoopback(t, proxy);
}
