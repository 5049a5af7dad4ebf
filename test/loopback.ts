import type { AddressInfo, Server, Socket } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * Listens on 127.0.0.1 (a free port) and, when the test ends, closes the server and every
 * connection still open on it, so a held or tunnelled connection never keeps the test running.
 */
export async function listenOnLoopback(t: TestContext, server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}
