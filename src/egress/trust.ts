import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Environment } from '../config/environment.js';
import { readRegularTextFile, UnreadableFile } from '../config/files.js';
import { UsageError } from '../errors.js';

/** One set of trusted CA certificates and the option that brings it in. */
export interface CaSource {
  /** How a user turns it on: `--ca-file PATH`, `--system-ca`, `NODE_EXTRA_CA_CERTS`. */
  readonly option: string;
  readonly path: string;
  readonly pems: readonly string[];
}

/** The roots trusted for the API connection, resolved once. */
export interface TrustSettings {
  /** Sources added on top of Node's bundled roots (NODE_EXTRA_CA_CERTS included when set). */
  readonly extra: readonly CaSource[];
  /**
   * The certificates to trust besides Node's bundled roots, or undefined to keep Node's default
   * store. A `ca` option replaces the default store, NODE_EXTRA_CA_CERTS included, so when
   * bgprobe adds CAs, caOption hands TLS the bundled roots along with these.
   */
  readonly addedPems: readonly string[] | undefined;
  /** One line for the report and `check`. */
  readonly description: string;
}

/** Where distributions keep the OS bundle (the list Go's crypto/x509 searches). */
const SYSTEM_BUNDLE_PATHS: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function pemCertificates(text: string): string[] {
  return text.match(PEM_CERT) ?? [];
}

/** The OS bundle: SSL_CERT_FILE when set, else the first standard path that exists. */
export function systemBundlePath(env: Environment): string | undefined {
  return env.get('SSL_CERT_FILE') ?? SYSTEM_BUNDLE_PATHS.find((p) => existsSync(p));
}

/**
 * The file NODE_EXTRA_CA_CERTS names. Node reads it at start-up from the real environment;
 * one set only in .env was not read by Node, so bgprobe adds it itself.
 */
function nodeExtraSource(env: Environment): CaSource | undefined {
  const path = env.get('NODE_EXTRA_CA_CERTS');
  if (path === undefined) return undefined;
  const pems = readPems(path);
  return pems.length > 0 ? { option: 'NODE_EXTRA_CA_CERTS', path, pems } : undefined;
}

function readPems(path: string): string[] {
  try {
    return pemCertificates(readRegularTextFile(path));
  } catch {
    return [];
  }
}

/** `cwd` is the folder a relative --ca-file starts from: the command's, not necessarily the process's. */
export function resolveTrust(caFile: string | undefined, systemCa: boolean, env: Environment, cwd: string): TrustSettings {
  const added: CaSource[] = [];
  if (caFile !== undefined) {
    let text: string;
    try {
      // A FIFO or a device is refused, not read: it would block or never end.
      text = readRegularTextFile(resolve(cwd, caFile));
    } catch (error) {
      const reason = error instanceof UnreadableFile ? error.reason : ((error as NodeJS.ErrnoException).code ?? 'error');
      throw new UsageError(`--ca-file ${JSON.stringify(caFile)} cannot be read (${reason}); give a readable PEM file of CA certificates`);
    }
    const pems = pemCertificates(text);
    if (pems.length === 0) throw new UsageError(`--ca-file ${JSON.stringify(caFile)} holds no PEM certificate (-----BEGIN CERTIFICATE-----); give a PEM CA bundle`);
    added.push({ option: '--ca-file', path: caFile, pems });
  }
  if (systemCa) {
    const path = systemBundlePath(env);
    if (path === undefined) {
      throw new UsageError(`--system-ca found no system CA bundle (SSL_CERT_FILE is not set and none of ${SYSTEM_BUNDLE_PATHS.join(', ')} exists); give the bundle with --ca-file`);
    }
    const pems = readPems(path);
    if (pems.length === 0) throw new UsageError(`--system-ca: ${path} holds no readable PEM certificate; give the bundle with --ca-file`);
    added.push({ option: '--system-ca', path, pems });
  }
  const nodeExtra = nodeExtraSource(env);
  const fromDotEnv = env.sourceOf('NODE_EXTRA_CA_CERTS') === '.env';
  const extra = [...(nodeExtra ? [nodeExtra] : []), ...added];
  // Without additions, Node's default store (bundled roots + NODE_EXTRA_CA_CERTS) is already right.
  const addedPems = added.length > 0 || (nodeExtra && fromDotEnv) ? extra.flatMap((s) => s.pems) : undefined;
  const parts = ["Node's bundled roots", ...extra.map((s) => `${s.option} ${s.path} (${s.pems.length})`)];
  return Object.freeze({ extra: Object.freeze(extra), addedPems: addedPems && Object.freeze(addedPems), description: parts.join(' + ') });
}

/**
 * The `ca` option for TLS: undefined keeps Node's default store; otherwise Node's bundled roots
 * and what bgprobe adds. The caller passes `rootCertificates` from node:tls, so that resolving
 * trust does not load TLS for a run that never uses it (a plain http:// base URL).
 */
export function caOption(trust: TrustSettings, bundledRoots: readonly string[]): string[] | undefined {
  return trust.addedPems ? [...bundledRoots, ...trust.addedPems] : undefined;
}
