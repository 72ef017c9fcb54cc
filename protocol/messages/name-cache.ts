// Names that repeat on every packet (topic, message type, group id, property keys) decoded once:
// the same bytes give back the same string. Decoding a short string costs a call into C++ and an
// allocation per field; comparing a dozen bytes in JS does not, and the strings that come back are
// one object, so the Map lookups keyed by them (counters, bindings, consumers) compare by identity.
// A fixed table (direct-mapped, 512 slots) bounds the memory whatever names clients send: a new
// name only replaces the one in its slot.

const SLOTS = 512;
/** longer fields are decoded as usual: names are short, and a long field is rarely repeated */
export const MAX_NAME_BYTES = 48;

const slotBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const slotNames: string[] = new Array<string>(SLOTS).fill('');

/** The string of buf[start, end) (UTF-8), from the table when these bytes were seen. end - start ≤ MAX_NAME_BYTES. */
export function decodeName(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  let hash = length;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + buf[i]!) | 0;
  const slot = hash & (SLOTS - 1);
  const seen = slotBytes[slot];
  if (seen !== undefined && seen.length === length) {
    let i = 0;
    while (i < length && seen[i] === buf[start + i]) i++;
    if (i === length) return slotNames[slot]!;
  }
  const name = buf.toString('utf8', start, end);
  const copy = new Uint8Array(length); // its own bytes: the socket chunk is not pinned
  for (let i = 0; i < length; i++) copy[i] = buf[start + i]!;
  slotBytes[slot] = copy;
  slotNames[slot] = name;
  return name;
}
