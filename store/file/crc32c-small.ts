// CRC32C (Castagnoli, the records' checksum) of a short range, computed in JS. For the small
// records (DELETE ~45 bytes, STATE ~60–100) the call into the native crc32c and the Buffer view it
// needs cost more than the bytes, up to SMALL_CRC_BYTES. Same values
// as @node-rs/crc32's crc32c (test/store-file-crc.spec.ts).

/** below this many bytes the JS loop is the cheaper one */
export const SMALL_CRC_BYTES = 64;

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[n] = c;
}

export function crc32cRange(buf: Uint8Array, start: number, end: number): number {
  let c = -1;
  for (let i = start; i < end; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
