// Why a publish was refused: the feedback texts of a false MessageStoreAck, in one table
// (KafkaJS keeps its broker error codes the same way). retriable: the same message may
// succeed if the producer sends it again later.
export interface Reason {
  readonly text: string;
  readonly retriable: boolean;
}

export const Reasons = Object.freeze({
  // KiteQ's exact texts (doc/architecture.md §4), kept so KiteQ clients that match them keep working.
  expired: { text: 'Expired Message!', retriable: false },
  invalidMessageId: { text: 'Invalid MessageId For UUID!', retriable: false },
  topicNotServed: { text: 'Topic Not Served By This Broker!', retriable: false },
  forbidden: { text: 'Group Not Allowed To Publish This Topic!', retriable: false },
  overflow: { text: 'overflow', retriable: true },
  storeFull: { text: 'Store Full: the broker cannot accept more messages until some are delivered', retriable: true },
  storeUnavailable: { text: 'Store Unavailable: the message was not stored, send it again', retriable: true },
  shuttingDown: { text: 'Broker Shutting Down: send it to another broker', retriable: true },
  unknownMessage: { text: 'Unknown Message: no prepared message with this id', retriable: false },
  // doc/security.md "Attacks and what the broker does": a group speaks only for its own messages.
  groupMismatch: { text: "Group Mismatch: header.groupId must be the publishing connection's group", retriable: false },
  // doc/delayed-delivery.md: a scheduled message the broker cannot honour is refused, never delivered at once.
  badDeliverAt: { text: 'Bad kiteq.deliverAt: expected epoch milliseconds as a decimal string', retriable: false },
  delayTooLong: {
    text: "Delay Too Long: kiteq.deliverAt is further ahead than the broker's max delay",
    retriable: false,
  },
  expiresBeforeDeliverAt: {
    text: 'Expires Before Delivery: expiredTime is earlier than kiteq.deliverAt',
    retriable: false,
  },
  flyCannotBeDelayed: {
    text: 'Fly Cannot Be Delayed: a fly message is not stored, so kiteq.deliverAt cannot be kept',
    retriable: false,
  },
  notPublishingGroup: {
    text: "Not The Publishing Group: only a connection of the message's publishing group may decide it",
    retriable: false,
  },
} satisfies Record<string, Reason>);

export type ReasonName = keyof typeof Reasons;

const retriableTexts = new Set(
  Object.values(Reasons)
    .filter((r) => r.retriable)
    .map((r) => r.text),
);

/** Is a store-ack feedback text one the producer may retry? Unknown texts are not retried. */
export function isRetriableFeedback(feedback: string): boolean {
  if (retriableTexts.has(feedback)) return true;
  return feedback.startsWith('Store Full') || feedback.startsWith('Store Unavailable') || feedback === 'overflow';
}
