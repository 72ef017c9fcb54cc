// The delayed-delivery property (doc/delayed-delivery.md): a header property `kiteq.deliverAt`
// holding an epoch time in milliseconds as a decimal string. Any client that can set a property
// (KiteQ's Go client included) can schedule a message.
import type { MessageHeader } from './messages/header';

export const DELIVER_AT_PROPERTY = 'kiteq.deliverAt';

/** digits only: no sign, no fraction, no exponent, no blanks; at most 16 digits (a safe integer) */
const EPOCH_MS = /^\d{1,16}$/;

/** The property's value as written, or undefined when the header has none. */
export function deliverAtValue(header: Pick<MessageHeader, 'properties'>): string | undefined {
  const { properties } = header;
  for (let i = 0; i < properties.length; i++) if (properties[i].key === DELIVER_AT_PROPERTY) return properties[i].value;
  return undefined;
}

/** Epoch milliseconds, or NaN when the value is not a decimal integer string. */
export function parseDeliverAt(value: string): number {
  if (!EPOCH_MS.test(value)) return NaN;
  const ms = Number(value);
  return Number.isSafeInteger(ms) ? ms : NaN;
}

/** The time a stored message may be delivered from (epoch ms); 0 when it has no valid property. */
export function deliverAtOf(header: Pick<MessageHeader, 'properties'>): number {
  if (header.properties.length === 0) return 0;
  const value = deliverAtValue(header);
  if (value === undefined) return 0;
  const ms = parseDeliverAt(value);
  return Number.isNaN(ms) ? 0 : ms;
}
