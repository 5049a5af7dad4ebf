import { connect, createServer, type Server, type Socket } from 'node:net';

/** One HTTP exchange as seen on the wire: the bytes each way, attributed to the request that caused them. */
export interface WireExchange {
  readonly method: string;
  readonly path: string;
  sent: number;
  received: number;
}

export interface WireStats {
  readonly connections: number;
  readonly exchanges: readonly WireExchange[];
}

/**
 * A TCP relay in front of the emulator that counts connections and bytes, so the figures are
 * what crossed the wire, whichever client (bgprobe, the SDK) made them. HTTP/1.1 without
 * pipelining is strictly request then answer, so client bytes that follow server bytes start a
 * new request, and every server byte belongs to the last request.
 */
export class CountingRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #connections = 0;
  #exchanges: WireExchange[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<{ relay: CountingRelay; port: number }> {
    const server = createServer();
    const relay = new CountingRelay(server);
    server.on('connection', (client: Socket) => relay.#relay(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay has no port');
    return { relay, port: address.port };
  }

  stats(): WireStats {
    return { connections: this.#connections, exchanges: this.#exchanges.map((e) => ({ ...e })) };
  }

  reset(): void {
    this.#connections = 0;
    this.#exchanges = [];
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: Socket, targetPort: number): void {
    this.#connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    this.#sockets.add(client).add(upstream);
    let current: WireExchange | undefined;
    let answered = true;
    client.on('data', (chunk: Buffer) => {
      if (answered || !current) {
        const [method = '?', path = '?'] = chunk.subarray(0, 200).toString('latin1').split(' ', 2);
        current = { method, path, sent: 0, received: 0 };
        this.#exchanges.push(current);
        answered = false;
      }
      current.sent += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (current) current.received += chunk.length;
      answered = true;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}
