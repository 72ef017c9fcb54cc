// The client listener: plain TCP, or TLS when --tls-cert/--tls-key are given (doc/security.md).
// A TLS socket is a net.Socket, so sessions frame it the same way.
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface TlsFiles {
  /** PEM certificate (chain) the broker presents */
  certPath: string;
  /** PEM private key of that certificate */
  keyPath: string;
  /** PEM CA bundle: when set, clients must present a certificate signed by it (mutual TLS) */
  caPath?: string;
}

export interface ListenerHooks {
  onSocket: (socket: Socket) => void;
  /** a TLS handshake that failed (a plain TCP client, a bad certificate, a timeout) */
  onTlsError: (error: Error, remote: string) => void;
  /** TLS handshakes not done within this are dropped (node's default is 120 s) */
  handshakeTimeoutMs: number;
}

export function tlsFilesFrom(config: { tlsCert?: string; tlsKey?: string; tlsCa?: string }): TlsFiles | undefined {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  return { certPath: config.tlsCert, keyPath: config.tlsKey, caPath: config.tlsCa };
}

/** A server for client connections; `tls` undefined means plain TCP. Files are read once, here. */
export function createClientListener(tls: TlsFiles | undefined, hooks: ListenerHooks): Server {
  if (!tls) return createNetServer(hooks.onSocket);
  const ca = tls.caPath ? readFileSync(tls.caPath) : undefined;
  const server = createTlsServer(
    {
      cert: readFileSync(tls.certPath),
      key: readFileSync(tls.keyPath),
      ca,
      requestCert: ca !== undefined,
      rejectUnauthorized: ca !== undefined,
      handshakeTimeout: hooks.handshakeTimeoutMs,
      minVersion: 'TLSv1.2',
    },
    hooks.onSocket,
  );
  // Without this listener a failed handshake is silent; with it, one line and the socket is gone.
  server.on('tlsClientError', (error, socket) => {
    hooks.onTlsError(error, `${socket.remoteAddress}:${socket.remotePort}`);
    socket.destroy();
  });
  return server;
}
