// Events passed between pipeline stages (doc/architecture.md §5). Each stage takes one and hands the next.
import type { KiteMessage } from '../protocol/messages/message';
import type { StoredMessage } from '../store/contract';
import type { SessionPort } from './session-port';

/** A publish that passed access and the rate limiter (accept). */
export interface PublishEvent {
  session: SessionPort;
  opaque: number;
  message: KiteMessage;
  /** the packet body as received (the message's protobuf bytes) */
  raw: Uint8Array;
  /** performance.now() when the packet was decoded: monotonic and sub-ms, for the latency histograms only */
  receivedAtMs: number;
}

/** A publish whose header was normalised and checked (check-message). */
export interface CheckedPublish extends PublishEvent {
  stored: StoredMessage;
  /** check-message changed no header field: `raw` is byte for byte the delivery packet body */
  rawIsDeliverable: boolean;
}

/** A message to (re)deliver: from persist, tx commit, the retry scheduler or recovery. */
export interface DeliveryRequest {
  message: StoredMessage;
  /** 1-based attempt number this delivery is (deliverCount + 1) */
  attempt: number;
  /** fly messages are delivered without a store: nothing to record afterwards */
  fly: boolean;
  /** performance.now() when the publish was received, for the publish→deliver histogram (first attempt only) */
  publishedAtMs?: number;
  /** the delivery packet body, when already encoded (a first attempt straight from its publish) */
  wire?: Uint8Array;
}
