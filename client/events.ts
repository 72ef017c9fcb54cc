// The client's typed events (KafkaJS instrumentation events, nats.js status): `on()` returns the
// unsubscribe. With no listener for an event, emitting it costs a map lookup and no payload.
import type { Binding } from '../binding/binding';
import type { BrokerRejectedError } from './errors';

/** Every event of the client and its payload. `broker` is the broker's host:port. */
export interface ClientEvents {
  /** A connection to a broker authenticated and is usable. */
  connect: { broker: string };
  /** A usable connection to a broker closed; `error` says why when it was not our close. */
  disconnect: { broker: string; error?: Error };
  /** The next connect attempt to a broker is in `delayMs` (`attempt` counts from 0 since the last success). */
  reconnecting: { broker: string; attempt: number; delayMs: number; error?: Error };
  /**
   * A broker refused our group or secret key. Other brokers are unaffected; this one is asked again after `retryInMs`
   * (null: never).
   */
  'auth-failed': { broker: string; error: BrokerRejectedError; retryInMs: number | null };
  /** The registry listed a new broker for one of our topics. */
  'broker-added': { broker: string; topics: string[] };
  /** A broker left the registry and its connection is closed. */
  'broker-removed': { broker: string };
  /** This group's bindings were written to the registry (start, setBindings). */
  'bindings-changed': { bindings: Binding[] };
  /**
   * Something went wrong that no caller awaits: a broker broke the protocol (that connection is
   * closed and reconnected), a message listener or check-back handler threw (`messageId`).
   */
  error: { error: Error; broker?: string; messageId?: string };
}

export type ClientEventName = keyof ClientEvents;
export type ClientEventListener<E extends ClientEventName> = (payload: ClientEvents[E]) => void;

/** Names of the events, for `client.on(ClientEvent.CONNECT, ...)`. */
export const ClientEvent = Object.freeze({
  CONNECT: 'connect',
  DISCONNECT: 'disconnect',
  RECONNECTING: 'reconnecting',
  AUTH_FAILED: 'auth-failed',
  BROKER_ADDED: 'broker-added',
  BROKER_REMOVED: 'broker-removed',
  BINDINGS_CHANGED: 'bindings-changed',
  ERROR: 'error',
} as const satisfies Record<string, ClientEventName>);

export class ClientEventHub {
  private readonly listeners = new Map<ClientEventName, Set<(payload: never) => void>>();

  /** A listener that throws is reported to `onListenerError` and never reaches the client. */
  constructor(private readonly onListenerError: (event: ClientEventName, error: unknown) => void) {}

  on<E extends ClientEventName>(event: E, listener: ClientEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(event) === set) this.listeners.delete(event);
    };
  }

  has(event: ClientEventName): boolean {
    return this.listeners.has(event);
  }

  /** `payload` is built only when someone listens. */
  emit<E extends ClientEventName>(event: E, payload: () => ClientEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    const value = payload();
    for (const listener of [...set]) {
      try {
        (listener as ClientEventListener<E>)(value);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
