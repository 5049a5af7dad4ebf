import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A server that answers the way the API never would (an HTML block page, broken JSON, a
 * redirect, a huge body), on loopback, for the tests of how bgprobe meets such answers.
 */
export interface ScriptedServer {
  readonly baseUrl: string;
  /** Every request received, in order: "METHOD /path". */
  readonly requests: readonly string[];
  /** The Authorization header of every request, to prove the key went only where it should. */
  readonly authorizations: readonly (string | undefined)[];
}

/** Answers one request; `index` counts from 0 over the whole server. */
export type Script = (req: IncomingMessage, res: ServerResponse, index: number) => void;

export async function scriptedServer(t: TestContext, script: Script): Promise<ScriptedServer> {
  const requests: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const index = requests.length;
      requests.push(`${req.method} ${req.url}`);
      authorizations.push(req.headers.authorization);
      script(req, res, index);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, requests, authorizations };
}

/** Writes one complete answer. */
export function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** The id `afterCreate` gives the response it pretends to create. */
export const CREATED_ID = 'resp_scripted_fault_case_00000001';

/**
 * A script that answers the create with a queued background Response, then hands every later
 * request (the polls) to `poll`: for faults that must come after a response id exists.
 */
export function afterCreate(poll: Script): Script {
  return (req, res, index) => {
    if (index > 0) return poll(req, res, index);
    const queued = { id: CREATED_ID, object: 'response', created_at: 1764140000, status: 'queued', background: true, model: 'gpt-5.2', output: [] };
    answer(res, 200, JSON.stringify(queued), { 'content-type': 'application/json', 'x-request-id': 'req_scripted' });
  };
}
