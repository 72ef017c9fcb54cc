// The client libraries of the peers (amqplib for RabbitMQ, nats for NATS JetStream) are optional
// peer dependencies of the package: a service that installs kiteq-ts for its client does not get
// them, so `kiteq-bench compare` loads them only when it runs and reports a missing one.
import type { PeerUnavailable } from '../result';

export type PeerLibrary = 'amqplib' | 'nats';

/** Why the peer cannot run and how to fix it, or undefined when its library is installed. */
export function missingPeerLibrary(name: PeerLibrary): PeerUnavailable | undefined {
  try {
    require.resolve(name);
    return undefined;
  } catch {
    return { unavailable: `${name} is not installed (an optional peer dependency of kiteq-ts): npm install ${name}` };
  }
}
