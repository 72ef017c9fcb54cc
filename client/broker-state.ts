// The life of the client's link to one broker, as a table (like handler/tx-states.ts): a move
// not listed is a bug and throws.
export type BrokerState = 'connecting' | 'connected' | 'waiting' | 'auth-failed' | 'closed';
/**
 * connected: authenticated; lost: closed or failed; refused: the broker refused our key;
 * retry: the back-off elapsed; close: removed or client closed
 */
export type BrokerEvent = 'connected' | 'lost' | 'refused' | 'retry' | 'close';

const moves: Readonly<Record<BrokerState, Partial<Record<BrokerEvent, BrokerState>>>> = Object.freeze({
  connecting: { connected: 'connected', lost: 'waiting', refused: 'auth-failed', close: 'closed' },
  connected: { lost: 'waiting', close: 'closed' },
  waiting: { retry: 'connecting', close: 'closed' },
  'auth-failed': { retry: 'connecting', close: 'closed' },
  closed: { close: 'closed' },
});

export class IllegalBrokerMove extends Error {
  constructor(from: BrokerState, event: BrokerEvent) {
    super(`broker link: no move from "${from}" on "${event}"`);
    this.name = 'IllegalBrokerMove';
  }
}

export function nextBrokerState(from: BrokerState, event: BrokerEvent): BrokerState {
  const to = moves[from][event];
  if (to === undefined) throw new IllegalBrokerMove(from, event);
  return to;
}
