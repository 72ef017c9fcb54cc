// protocol/messages/name-cache.ts: a repeated name decodes to the same string object, thousands of
// names (a broker's topics and groups) all stay in the table, and past MAX_NAMES every name still
// decodes to itself.
import assert from 'node:assert/strict';
import { decodeName, MAX_NAME_BYTES, MAX_NAMES } from '../protocol/messages/name-cache';

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

  it('keeps 1,000 topics, their groups and types: the second time, none is decoded again', () => {
    // doc/scaling.md, Topics: a table smaller than the broker's names decoded each packet's topic anew
    const names = [
      ...Array.from({ length: 1000 }, (_, i) => `trade-${i}`),
      ...Array.from({ length: 1000 }, (_, i) => `s-bench-${i}`),
      ...Array.from({ length: 100 }, (_, i) => `pay-succ-${i}`),
    ];
    for (const name of names) decode(name);
    const decodedAgain = names.filter((name) => {
      const buf = Buffer.from(name, 'utf8');
      let utf8Decodes = 0;
      const toString = buf.toString.bind(buf);
      buf.toString = (...args: Parameters<Buffer['toString']>) => (utf8Decodes++, toString(...args));
      assert.equal(decodeName(buf, 0, buf.length), name);
      return utf8Decodes > 0;
    });
    assert.deepEqual(decodedAgain, []);
  });

  it('starts over past MAX_NAMES distinct names and still decodes each to itself', () => {
    const names = Array.from({ length: MAX_NAMES * 2 + 7 }, (_, i) => `flood-${i}`);
    for (const name of names) assert.equal(decode(name), name);
    const last = decode('after-flood');
    assert.equal(last, 'after-flood');
    assert.ok(Object.is(decode('after-flood', 5), last));
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
