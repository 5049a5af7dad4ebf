import { connect, createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { listenOnLoopback } from './loopback.js';

/**
 * A small SOCKS5 server on loopback, written from RFC 1928 (greeting, CONNECT, replies) and
 * RFC 1929 (username/password): no maintained npm package covered allowing, a ruleset denial and
 * authentication in a few lines. It only ever connects to loopback destinations.
 */
export interface TestSocksProxy {
  readonly port: number;
  /** Every CONNECT request: its destination as sent (a name stays a name) and the user, if any. */
  readonly connects: { readonly target: string; readonly user: string | undefined }[];
}

export interface SocksProxyOptions {
  /** Username/password it requires (method 2); without them a client gets 0xFF, "no acceptable method". */
  readonly credentials?: { readonly user: string; readonly password: string };
  /** Reply to every CONNECT with this code instead of connecting: 2 is "not allowed by ruleset". */
  readonly reply?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startSocksProxy(t: TestContext, options: SocksProxyOptions = {}): Promise<TestSocksProxy> {
  const connects: TestSocksProxy['connects'][number][] = [];
  const server = createServer((socket) => {
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let step: 'greeting' | 'auth' | 'request' | 'done' = 'greeting';
    let user: string | undefined;
    const reply = (code: number, port = 0): void => {
      const answer = Buffer.from([5, code, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]);
      if (code === 0) socket.write(answer);
      else socket.end(answer);
    };
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (step === 'greeting') {
          if (buffer.length < 2 || buffer.length < 2 + (buffer[1] as number)) return;
          const methods = [...buffer.subarray(2, 2 + (buffer[1] as number))];
          buffer = buffer.subarray(2 + (buffer[1] as number));
          const wanted = options.credentials ? 2 : 0;
          if (!methods.includes(wanted)) return void socket.end(Buffer.from([5, 0xff]));
          socket.write(Buffer.from([5, wanted]));
          step = wanted === 2 ? 'auth' : 'request';
        } else if (step === 'auth') {
          const userLength = buffer[1];
          if (userLength === undefined || buffer.length < 3 + userLength) return;
          const passwordLength = buffer[2 + userLength] as number;
          if (buffer.length < 3 + userLength + passwordLength) return;
          user = buffer.subarray(2, 2 + userLength).toString('utf8');
          const password = buffer.subarray(3 + userLength, 3 + userLength + passwordLength).toString('utf8');
          buffer = buffer.subarray(3 + userLength + passwordLength);
          const ok = user === options.credentials?.user && password === options.credentials?.password;
          if (!ok) return void socket.end(Buffer.from([1, 1]));
          socket.write(Buffer.from([1, 0]));
          step = 'request';
        } else if (step === 'request') {
          if (buffer.length < 5) return;
          const type = buffer[3];
          const addressLength = type === 1 ? 4 : type === 4 ? 16 : 1 + (buffer[4] as number);
          if (buffer.length < 4 + addressLength + 2) return;
          const raw = buffer.subarray(4, 4 + addressLength);
          const host = type === 1 ? [...raw].join('.') : type === 4 ? '::1' : raw.subarray(1).toString('latin1');
          const port = buffer.readUInt16BE(4 + addressLength);
          const rest = buffer.subarray(4 + addressLength + 2);
          step = 'done';
          socket.off('data', onData);
          connects.push({ target: `${host}:${port}`, user });
          if (options.reply !== undefined || !LOOPBACK.has(host)) {
            reply(options.reply ?? 2);
            return;
          }
          const upstream = connect({ host, port, autoSelectFamily: true }, () => {
            reply(0, port);
            if (rest.length > 0) upstream.write(rest);
            socket.pipe(upstream).pipe(socket);
          });
          upstream.on('error', () => (upstream.connecting ? reply(5) : socket.destroy()));
          socket.on('close', () => upstream.destroy());
          return;
        } else return;
      }
    };
    socket.on('data', onData);
  });
  return { port: await listenOnLoopback(t, server), connects };
}
