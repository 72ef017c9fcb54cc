// Registry reachability for /healthz. The registry contract has no ping, so: file:// must be a
// readable file; zk:// must accept a TCP connection on at least one listed server within the timeout.
// (A ZooKeeper that accepts TCP but has lost quorum is not detected here; the zk session log is.)
import { access, constants } from 'node:fs/promises';
import { connect } from 'node:net';
import type { ReachableResult } from './admin-port';

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function registryReachable(uri: string, timeoutMs = 1000): Promise<ReachableResult> {
  if (uri.startsWith('file://')) {
    const path = uri.slice('file://'.length);
    try {
      await access(path, constants.R_OK);
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `registry file ${path} not readable: ${(error as Error).message}` };
    }
  }
  if (uri.startsWith('zk://')) {
    const hosts = uri.slice('zk://'.length).split('/')[0].split(',').filter(Boolean);
    const results = await Promise.all(
      hosts.map((h) => {
        const i = h.lastIndexOf(':');
        return tcpReachable(i < 0 ? h : h.slice(0, i), i < 0 ? 2181 : Number(h.slice(i + 1)), timeoutMs);
      }),
    );
    return results.some(Boolean)
      ? { ok: true }
      : { ok: false, reason: `no ZooKeeper server of ${hosts.join(',')} accepts connections` };
  }
  return { ok: false, reason: `unknown registry ${uri}` };
}
