// Segment files (store/file/segment-files.ts): a rotation whose directory fsync failed does not block
// the later ones, and the descriptors carry O_DSYNC under fsync=batch|always, which is what makes a
// write durable when it returns (doc/file-store.md "Writes"). A SIGKILL test cannot see a dropped
// O_DSYNC (the page cache survives it), so the flag itself is checked, from /proc/self/fdinfo.
import assert from 'node:assert/strict';
import { constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStore, openFileStore } from '../store/file';
import { createSegment, type OpenSegment, segmentPath } from '../store/file/segment-files';
import { aMessage } from './support/messages';
import { segmentFiles } from './support/segments';

/** the open segments of a store, by id */
function openSegments(store: FileStore): Map<number, OpenSegment> {
  return (store as unknown as { segments: Map<number, OpenSegment> }).segments;
}

/** the open-file flags of one of this process's descriptors (Linux) */
function fdFlags(fd: number): number {
  const match = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  assert.ok(match, `flags of fd ${fd}`);
  return parseInt(match[1]!, 8);
}

describe('file store segments - rotation after a failed directory fsync', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-segments-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes the half-made segment when the directory fsync fails, so the next attempt creates it', async () => {
    const failing = () =>
      Promise.reject(Object.assign(new Error('injected: fsync of the directory failed'), { code: 'EIO' }));
    await assert.rejects(createSegment(dir, 2, true, failing), /injected/);
    assert.equal(existsSync(segmentPath(dir, 2)), false, 'the half-made file is gone');
    const segment = await createSegment(dir, 2, true);
    assert.equal(segment.size, 0);
    await segment.file.close();
  });

  it('takes over an empty segment a failed rotation left behind, instead of failing every later rotation with EEXIST', async () => {
    const store = openFileStore(`file://${dir}?segmentBytes=4096`, { serverName: '127.0.0.1:13800' }) as FileStore;
    await store.start();
    writeFileSync(segmentPath(dir, 2), ''); // what a rotation leaves when its fsync and the removal both failed
    const messages = Array.from({ length: 60 }, (_, i) => aMessage({}, `rotated ${i} `.padEnd(200, '.')));
    for (const message of messages) await store.save(message);
    assert.ok(segmentFiles(dir).length >= 3, 'the store rotated past the leftover file');
    await store.stop();
    const reopened = openFileStore(`file://${dir}?segmentBytes=4096`, { serverName: '127.0.0.1:13800' }) as FileStore;
    await reopened.start();
    for (const message of messages) assert.equal((await reopened.get(message.header.messageId))?.body, message.body);
    await reopened.stop();
  });
});

describe('file store segments - O_DSYNC on every segment descriptor (fsync=batch|always)', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-dsync-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const fsync of ['batch', 'always', 'interval'] as const) {
    const wanted = fsync !== 'interval';
    it(`fsync=${fsync}: ${wanted ? 'created and reopened segments are' : 'no segment is'} opened with O_DSYNC`, async () => {
      const uri = `file://${dir}?fsync=${fsync}&segmentBytes=4096`;
      const check = (store: FileStore, when: string) => {
        const segments = [...openSegments(store).values()];
        assert.ok(segments.length >= 2, `several segments ${when}`);
        for (const segment of segments) {
          assert.equal(
            (fdFlags(segment.file.fd) & constants.O_DSYNC) !== 0,
            wanted,
            `segment ${segment.id} ${when}: O_DSYNC ${wanted ? 'set' : 'not set'}`,
          );
        }
      };
      const store = openFileStore(uri, { serverName: '127.0.0.1:13800' }) as FileStore;
      await store.start();
      try {
        for (let i = 0; i < 40; i++) await store.save(aMessage({}, `dsync ${i} `.padEnd(200, '.')));
        check(store, 'after rotations');
      } finally {
        await store.stop();
      }
      const reopened = openFileStore(uri, { serverName: '127.0.0.1:13800' }) as FileStore;
      await reopened.start();
      try {
        check(reopened, 'after a restart');
      } finally {
        await reopened.stop();
      }
    });
  }
});
