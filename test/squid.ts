import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './helpers.js';

/**
 * A real squid for the tests that check bgprobe's squid snippet and its recognition of squid's
 * refusals. Installed on the CI machine by .ci/run; where it is not installed those tests skip
 * and say why. It listens on loopback only, and sends any DNS query it makes to 127.0.0.1.
 */
export const SQUID = ['/usr/sbin/squid', '/usr/local/sbin/squid', '/usr/bin/squid'].find((path) => existsSync(path));

/** `skip` for node:test: false when squid is here, the reason otherwise. */
export const squidSkip: string | false = SQUID ? false : 'squid is not installed here (apt-get install squid; .ci/run installs it)';

function configText(port: number, rules: string): string {
  return [
    `http_port 127.0.0.1:${port}`,
    'pid_filename none',
    'cache_log /dev/null',
    'access_log none',
    'cache deny all',
    'pinger_enable off',
    // Never a resolver off the machine, whatever the rules make squid look up.
    'dns_nameservers 127.0.0.1',
    'shutdown_lifetime 0 seconds',
    rules.trimEnd(),
    'http_access deny all',
    '',
  ].join('\n');
}

/** What `squid -k parse` says of a configuration made of these rules: its exit code and every ERROR or WARNING line. */
export function parseWithSquid(t: TestContext, rules: string): { code: number | null; complaints: string[] } {
  const file = join(tempDir(t), 'squid.conf');
  writeFileSync(file, configText(3128, rules));
  const result = spawnSync(SQUID as string, ['-k', 'parse', '-f', file], { encoding: 'utf8', timeout: 30_000 });
  const output = `${result.stdout}${result.stderr}`;
  return { code: result.status, complaints: output.split('\n').filter((line) => /ERROR|WARNING|FATAL/.test(line)) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts squid in the foreground with these rules above `http_access deny all`; stopped when the test ends. */
export async function startSquid(t: TestContext, rules: string): Promise<{ url: string }> {
  const port = await freePort();
  const file = join(tempDir(t), 'squid.conf');
  writeFileSync(file, configText(port, rules));
  const child = spawn(SQUID as string, ['-N', '-f', file], { stdio: 'ignore' });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  // Squid takes a second or two to start; counted attempts, not a race.
  for (let attempt = 0; attempt < 150; attempt += 1) {
    if (await accepting(port)) return { url: `http://127.0.0.1:${port}` };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`squid did not start on 127.0.0.1:${port}: ${execFileSync(SQUID as string, ['-k', 'parse', '-f', file], { encoding: 'utf8' }).slice(-500)}`);
}
