import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestContext } from 'node:test';

/** What an intermediary does with the upstream's answer before (or instead of) passing it on. */
export type Relay = (upstream: IncomingMessage, res: ServerResponse) => void;

/** A reverse proxy on loopback that forwards every request to `target` and hands the answer to `relay`. */
export async function reverseProxy(t: TestContext, target: string, relay: Relay): Promise<string> {
  const upstreamUrl = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const forward = request(
      { host: upstreamUrl.hostname, port: upstreamUrl.port, method: req.method, path: req.url, headers: req.headers },
      (upstream) => relay(upstream, res),
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

