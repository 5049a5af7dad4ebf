import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A CA made at test time: nothing is downloaded or checked in. */
export interface TestCa {
  readonly name: string;
  readonly key: string;
  readonly cert: string;
  /** The CA certificate as a file, for --ca-file, NODE_EXTRA_CA_CERTS or SSL_CERT_FILE. */
  readonly certPath: string;
}

export interface TestLeaf {
  readonly key: string;
  /** Leaf then CA, as servers send their chain. */
  readonly chain: string;
}

const dir = mkdtempSync(join(tmpdir(), 'bgprobe-certs-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A CA with the extensions strict verifiers want (basicConstraints, keyUsage, key identifiers);
 * `notCa` makes the mistake home-made interception CAs make: a certificate marked CA:FALSE.
 */
export function makeCa(commonName: string, notCa = false): TestCa {
  const name = `ca${++counter}`;
  const extensions = notCa ? ['-addext', 'basicConstraints=critical,CA:FALSE'] : ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${commonName}/O=bgprobe tests`,
    ...extensions,
  ]);
  return { name, key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.pem`), 'utf8'), certPath: join(dir, `${name}.pem`) };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`; `days` -1 makes one that expired yesterday. */
export function makeLeaf(ca: TestCa, commonName = '127.0.0.1', days = 2): TestLeaf {
  const name = `leaf${++counter}`;
  writeFileSync(
    join(dir, `${name}.ext`),
    ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', 'authorityKeyIdentifier=keyid'].join('\n'),
  );
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`]);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca.name}.pem`, '-CAkey', `${ca.name}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', String(days), '-extfile', `${name}.ext`]);
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), chain: readFileSync(join(dir, `${name}.pem`), 'utf8') + ca.cert };
}
