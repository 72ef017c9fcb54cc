// Maps an internal error to the store-ack feedback a producer can act on (style: errors).
import { Reasons } from '../protocol/reasons';
import { StoreError, StoreFullError } from '../store/errors';

export function feedbackFor(error: unknown): string {
  if (error instanceof StoreFullError) return `${Reasons.storeFull.text} (${error.message})`;
  if (error instanceof StoreError) return `${Reasons.storeUnavailable.text} (${error.message})`;
  return Reasons.storeUnavailable.text;
}
