// store/file/crc32c-small.ts agrees with the native crc32c the records are verified with on
// recovery, for every length around the threshold and at any offset.
import assert from 'node:assert/strict';
import { crc32c } from '@node-rs/crc32';
import { crc32cRange, SMALL_CRC_BYTES } from '../store/file/crc32c-small';

describe('file store - CRC32C of short records in JS', () => {
  it('matches the native crc32c for lengths 0 to 4 × the threshold at several offsets', () => {
    const buf = Buffer.alloc(8 + 4 * SMALL_CRC_BYTES + 8);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
    for (const start of [0, 1, 8]) {
      for (let length = 0; length <= 4 * SMALL_CRC_BYTES; length++) {
        assert.equal(
          crc32cRange(buf, start, start + length),
          crc32c(buf.subarray(start, start + length)),
          `start ${start} length ${length}`,
        );
      }
    }
  });

  it('gives the standard check value for "123456789"', () => {
    assert.equal(crc32cRange(Buffer.from('123456789'), 0, 9), 0xe3069283);
  });
});
