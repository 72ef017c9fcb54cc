// The fast path for the short strings of the hot path (ids, topics, groups): ASCII is copied byte
// for byte in JS, with no call into C++ for its size and bytes. Shared by the protobuf writer and the
// file store's record writer.

/**
 * Copies `text` into `buf` from `pos` when every char is ASCII and returns the position after it;
 * -1 when a char is not ASCII (the bytes from `pos` may then hold garbage: write the text again).
 * The caller makes sure `text.length` bytes fit from `pos`.
 */
export function writeAscii(buf: Uint8Array, pos: number, text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bits |= c;
    buf[pos++] = c;
  }
  return bits < 0x80 ? pos : -1;
}
