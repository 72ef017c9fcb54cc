// Names that repeat on every packet (topic, message type, group id, property keys) decoded once:
// the same bytes give back the same string. Decoding a short string costs a call into C++ and an
// allocation per field; comparing a dozen bytes in JS does not, and the strings that come back are
// one object, so the Map lookups keyed by them (counters, bindings, consumers) compare by identity.
// An open-addressed table (linear probing, at most half full) keeps every name up to MAX_NAMES, so
// a broker serving thousands of topics and groups decodes each once (doc/scaling.md, Topics).
// Memory stays bounded whatever names clients send: when full, the table starts over.

const SLOTS = 16_384;
/** distinct names kept before the table starts over (half the slots: probes stay short) */
export const MAX_NAMES = SLOTS / 2;
/** longer fields are decoded as usual: names are short, and a long field is rarely repeated */
export const MAX_NAME_BYTES = 48;

const slotBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const slotNames: string[] = new Array<string>(SLOTS).fill('');
const slotHashes = new Int32Array(SLOTS);
let names = 0;

/** The string of buf[start, end) (UTF-8), from the table when these bytes were seen. end - start ≤ MAX_NAME_BYTES. */
export function decodeName(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  let hash = length;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + buf[i]!) | 0;
  hash ^= hash >>> 15; // sequential names (topic-1, topic-2 …) differ in the low bits only
  let slot = hash & (SLOTS - 1);
  for (let seen = slotBytes[slot]; seen !== undefined; seen = slotBytes[slot]) {
    if (slotHashes[slot] === hash && seen.length === length) {
      let i = 0;
      while (i < length && seen[i] === buf[start + i]) i++;
      if (i === length) return slotNames[slot]!;
    }
    slot = (slot + 1) & (SLOTS - 1);
  }
  if (names >= MAX_NAMES) {
    slotBytes.fill(undefined); // more distinct names than any broker serves: start over
    names = 0;
    slot = hash & (SLOTS - 1);
  }
  const name = buf.toString('utf8', start, end);
  const copy = new Uint8Array(length); // its own bytes: the socket chunk is not pinned
  for (let i = 0; i < length; i++) copy[i] = buf[start + i]!;
  slotBytes[slot] = copy;
  slotNames[slot] = name;
  slotHashes[slot] = hash;
  names++;
  return name;
}
