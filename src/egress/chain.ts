import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates, type PeerCertificate } from 'node:tls';
import { pemCertificates, type CaSource } from './trust.js';

/** One certificate of the chain a peer presented, as `check` shows it. */
export interface CertificateView {
  readonly subject: string;
  readonly issuer: string;
  readonly sha256: string;
  readonly validTo: string;
}

export function viewOf(cert: PeerCertificate): CertificateView {
  return { subject: nameOf(cert.subject), issuer: nameOf(cert.issuer), sha256: cert.fingerprint256, validTo: cert.valid_to };
}

function nameOf(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '(none)';
  const parts = (['CN', 'O', 'OU'] as const).map((k) => name[k]).filter((v) => v !== undefined).map((v) => (Array.isArray(v) ? v.join('+') : String(v)));
  return parts.length > 0 ? parts.join(', ') : '(empty)';
}

/** A named set of CA certificates to test a chain against. */
interface Anchors {
  /** What trusting it takes: "Node's bundled roots", "--ca-file x.pem", "--system-ca (/etc/ssl/...)". */
  readonly label: string;
  /** Whether this run already trusts it. */
  readonly active: boolean;
  readonly certs: readonly X509Certificate[];
}

/** Certificates already read, by their PEM text: each TLS stage of a check looks through the same stores (~150 roots each, ~40 ms to parse). */
const parsedPems = new Map<string, X509Certificate | undefined>();

function parse(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    if (!parsedPems.has(pem)) parsedPems.set(pem, parseOne(pem));
    const cert = parsedPems.get(pem);
    if (cert !== undefined) out.push(cert);
  }
  return out;
}

function parseOne(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    // A malformed entry in a bundle is skipped, as OpenSSL skips it.
    return undefined;
  }
}

/**
 * CA files other tools are told about: sandboxes that intercept TLS often set these for curl,
 * Python, git or npm and forget Node. A chain that ends in one of them gets that file as the hint.
 */
const OTHER_TOOLS_CA_VARS: readonly string[] = ['CODEX_CA_CERTIFICATE', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO', 'PIP_CERT', 'npm_config_cafile', 'NPM_CONFIG_CAFILE'];

/**
 * Every store `check` knows: the bundled roots and the run's extra CAs (active), then the OS
 * bundle and other tools' CA files (inactive), only to say which option would trust a chain.
 */
export function knownAnchors(extra: readonly CaSource[], systemBundle: string | undefined, get: (name: string) => string | undefined): Anchors[] {
  const anchors: Anchors[] = [{ label: "Node's bundled roots", active: true, certs: parse(rootCertificates) }];
  for (const source of extra) anchors.push({ label: `${source.option} ${source.path}`, active: true, certs: parse(source.pems) });
  if (systemBundle !== undefined && !extra.some((s) => s.option === '--system-ca')) {
    anchors.push({ label: `--system-ca (${systemBundle})`, active: false, certs: parse(readPems(systemBundle)) });
  }
  for (const name of OTHER_TOOLS_CA_VARS) {
    const path = get(name);
    if (path !== undefined) anchors.push({ label: `--ca-file ${path} (the file ${name} names)`, active: false, certs: parse(readPems(path)) });
  }
  return anchors;
}

function readPems(path: string): string[] {
  try {
    return pemCertificates(readFileSync(path, 'utf8'));
  } catch {
    // An unreadable file simply offers no hint.
    return [];
  }
}

/**
 * The first store that holds a certificate of the chain or the issuer of its last one. Most
 * intercepting proxies (mitmproxy, corporate ones) send only the leaf, so the issuer test is what
 * finds their CA; `top.checkIssued(ca)` asks "was top issued by ca?".
 */
export function anchorOf(chain: readonly PeerCertificate[], anchors: readonly Anchors[]): Anchors | undefined {
  const presented = chain.map((c) => (c.raw ? safeX509(c.raw) : undefined)).filter((c): c is X509Certificate => c !== undefined);
  const top = presented[presented.length - 1];
  if (!top) return undefined;
  return anchors.find((a) =>
    a.certs.some((ca) => presented.some((p) => p.fingerprint256 === ca.fingerprint256) || (top.checkIssued(ca) && top.verify(ca.publicKey))),
  );
}

function safeX509(raw: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(raw);
  } catch {
    return undefined;
  }
}
