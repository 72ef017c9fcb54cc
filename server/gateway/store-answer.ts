// The native answers as HTTP (doc/http-gateway.md "Errors"): a MessageStoreAck refusal keeps its
// feedback text as `reason`; its status says whose fault it was — 4xx the caller's (sending it
// again will not help), 503 + Retry-After when it may succeed later (overflow, store trouble,
// shutting down) — and a tx decision's outcome becomes 200 or the matching 4xx/503.
import type { TxOutcome } from '../../handler/tx-ack';
import { isRetriableFeedback, Reasons } from '../../protocol/reasons';
import { GatewayError } from './gateway-error';

/** Seconds a caller is told to wait before sending a retriable refusal again. */
export const RETRY_AFTER_SEC = '1';

export function publishRefusal(feedback: string): GatewayError {
  if (isRetriableFeedback(feedback)) {
    const code = feedback.startsWith('Store Full')
      ? 'store_full'
      : feedback.startsWith('Store Unavailable')
        ? 'store_unavailable'
        : 'overflow';
    return new GatewayError(503, code, feedback, { 'retry-after': RETRY_AFTER_SEC });
  }
  if (feedback.startsWith(Reasons.forbidden.text)) return new GatewayError(403, 'forbidden', feedback);
  if (feedback.startsWith(Reasons.topicNotServed.text)) return new GatewayError(404, 'topic_not_served', feedback);
  return new GatewayError(400, 'rejected', feedback);
}

/** A commit/rollback's outcome: the answer body, or the refusal. */
export function txAnswer(
  messageId: string,
  outcome: TxOutcome,
): { messageId: string; state: 'committed' | 'rolledBack' } {
  switch (outcome) {
    case 'commit':
    case 'duplicate': // committed before: the same state, answered the same way
      return { messageId, state: 'committed' };
    case 'rollback':
      return { messageId, state: 'rolledBack' };
    case 'unknownMessage':
      throw new GatewayError(404, 'unknown_message', Reasons.unknownMessage.text);
    case 'notPublishingGroup':
      throw new GatewayError(403, 'not_publishing_group', Reasons.notPublishingGroup.text);
    case 'refused':
      throw new GatewayError(
        409,
        'conflict',
        'the message is not prepared any more: it was committed, or decided by the final action, before this decision',
      );
    case 'unknown':
      throw new GatewayError(503, 'store_unavailable', Reasons.storeUnavailable.text, {
        'retry-after': RETRY_AFTER_SEC,
      });
  }
}
