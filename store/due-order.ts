import type { DueCursor, StoredMessage } from './contract';

type DueKey = DueCursor | StoredMessage;

function keyOf(item: DueKey): DueCursor {
  return 'header' in item ? { nextDeliverTime: item.nextDeliverTime, messageId: item.header.messageId } : item;
}

/** The recovery order of doc/architecture.md §6: by nextDeliverTime, then messageId. */
export function compareDue(a: DueKey, b: DueKey): number {
  const x = keyOf(a);
  const y = keyOf(b);
  if (x.nextDeliverTime !== y.nextDeliverTime) return x.nextDeliverTime - y.nextDeliverTime;
  return x.messageId < y.messageId ? -1 : x.messageId > y.messageId ? 1 : 0;
}

export function cursorOf(message: StoredMessage): DueCursor {
  return { nextDeliverTime: message.nextDeliverTime, messageId: message.header.messageId };
}
