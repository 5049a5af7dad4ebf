import { isIP, type Socket } from 'node:net';
import type { ProxySettings } from '../egress/proxy-config.js';
import { loadSocksClient, socksConnect, socksGreet, SocksFailure } from '../egress/socks-stages.js';
import { bounded, openTcp, type StageFailure } from '../egress/stages.js';

/** What undici hands a connector, as much of it as this one reads. */
interface ConnectOptions {
  readonly hostname: string;
  readonly port: string | number;
  readonly protocol: string;
  readonly servername?: string | null;
}
type ConnectCallback = (error: Error | null, socket: Socket | null) => void;
type Connector = (options: ConnectOptions, callback: ConnectCallback) => void;

/**
 * An undici connector that opens each connection through a SOCKS5 proxy, using undici's own
 * SOCKS5 client for the protocol and the same stage functions `check` uses, so a run fails with
 * the words check prints. undici's Socks5ProxyAgent is not used: it has fixed 5 s waits, prints
 * an ExperimentalWarning, and sends an IP address as the TLS server name (another warning).
 * Host names go to the proxy unresolved (socks5h behaviour).
 */
export async function socksConnector(proxy: ProxySettings, ca: readonly string[] | undefined, servername: string | undefined, timeoutMs: number): Promise<Connector> {
  const Client = await loadSocksClient();
  const { connect: tlsConnect } = await import('node:tls');
  const proxyHost = proxy.url.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = Number(proxy.url.port || 1080);

  const open = async (options: ConnectOptions): Promise<Socket> => {
    const https = options.protocol === 'https:';
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const port = Number(options.port || (https ? 443 : 80));
    let socket: Socket;
    try {
      socket = await openTcp(proxyHost, proxyPort, `the SOCKS proxy ${proxy.display}`, timeoutMs);
    } catch (error) {
      const failure = error as StageFailure;
      throw new SocksFailure(failure.message, failure.hint, 'tcp', false, failure.cause);
    }
    try {
      const { client } = await socksGreet(Client, socket, proxy, timeoutMs);
      await socksConnect(client, socket, proxy, host, port, timeoutMs);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    if (!https) return socket;
    const name = servername ?? (isIP(host) ? undefined : host);
    const tls = tlsConnect({ socket, ...(name ? { servername: name } : {}), ...(ca ? { ca: [...ca] } : {}), ALPNProtocols: ['http/1.1'] });
    const handshake = new Promise<Socket>((resolve, reject) => {
      tls.once('secureConnect', () => resolve(tls));
      tls.once('error', reject);
    });
    // A TLS failure stays Node's own error, so it is diagnosed as any TLS failure is.
    return bounded(timeoutMs, `the TLS handshake with ${host} through the SOCKS proxy`, 'the proxy holds the connection open without reaching the API', handshake, () => tls.destroy());
  };

  return (options, callback) => {
    open(options).then(
      (socket) => callback(null, socket),
      (error: Error) => callback(error, null),
    );
  };
}
