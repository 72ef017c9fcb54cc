// protocol/messages/name-cache.ts: a repeated name decodes to the same string object, and a name
// that shares a slot with another (2,000 names over 512 slots) still decodes to itself.
import assert from 'node:assert/strict';
import { decodeName, MAX_NAME_BYTES } from '../protocol/messages/name-cache';

function decode(text: string, offset = 3): string {
  const bytes = Buffer.from(text, 'utf8');
  const buf = Buffer.alloc(bytes.length + offset + 2, 0x7a); // the field sits inside a larger packet
  bytes.copy(buf, offset);
  return decodeName(buf, offset, offset + bytes.length);
}

describe('protocol - name cache for repeated string fields', () => {
  it('gives back the same string object for the same bytes', () => {
    const first = decode('pay-succ');
    const again = decode('pay-succ', 9);
    assert.equal(again, 'pay-succ');
    assert.ok(Object.is(first, again));
  });

  it('decodes every name to itself when names share slots', () => {
    const names = Array.from({ length: 2000 }, (_, i) => `group-${i}`);
    for (let round = 0; round < 3; round++) for (const name of names) assert.equal(decode(name), name);
  });

  it('keeps UTF-8 and names up to MAX_NAME_BYTES exact', () => {
    for (const name of ['订单', 'é', 'ü'.repeat(MAX_NAME_BYTES / 2), 'x'.repeat(MAX_NAME_BYTES), 'a', 'b']) {
      assert.equal(decode(name), name);
      assert.equal(decode(name), name);
    }
  });

  it('does not keep a view of the packet: a reused buffer does not change a cached name', () => {
    const buf = Buffer.from('topic-A', 'utf8');
    assert.equal(decodeName(buf, 0, buf.length), 'topic-A');
    buf.write('topic-B');
    assert.equal(decodeName(buf, 0, buf.length), 'topic-B');
    assert.equal(decode('topic-A'), 'topic-A');
  });
});
