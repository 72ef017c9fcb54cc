// file store durability (doc/architecture.md §8, §11): a writer killed with SIGKILL at random moments loses
// nothing it was told was saved.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openFileStore } from '../store/file';

const WRITER = path.join(__dirname, 'fixtures', 'file-store-writer.js');

interface Run {
  acked: Set<string>;
  /** a delete was asked: present or gone are both right until it is reported done */
  deleting: Set<string>;
  deleted: Set<string>;
}

/** Starts the writer, lets it run `ms` after it is ready, SIGKILLs it, and returns what it printed. */
function runAndKill(dir: string, ms: number): Promise<Run> {
  const run: Run = { acked: new Set(), deleting: new Set(), deleted: new Set() };
  const child: ChildProcess = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let partial = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), ms);
        else if (line.startsWith('deleting ')) run.deleting.add(line.slice(9));
        else if (line.startsWith('deleted ')) run.deleted.add(line.slice(8));
        else run.acked.add(line);
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (${signal ?? _code})`));
      else resolve(run);
    });
  });
}

describe('file store crash - writer killed with SIGKILL', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiteq-file-crash-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds every acked message after each of several kills', async () => {
    const everAcked = new Set<string>();
    const everDeleted = new Set<string>();
    const everDeleting = new Set<string>();
    for (const ms of [
      150 + Math.random() * 300,
      50 + Math.random() * 100,
      400 + Math.random() * 400,
      Math.random() * 30,
    ]) {
      const run = await runAndKill(dir, ms);
      run.acked.forEach((id) => everAcked.add(id));
      run.deleted.forEach((id) => everDeleted.add(id));
      run.deleting.forEach((id) => everDeleting.add(id));
      const store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800' });
      await store.start();
      const missing: string[] = [];
      for (const id of everAcked) {
        if (!everDeleting.has(id) && !(await store.get(id))) missing.push(id);
      }
      for (const id of everDeleted) assert.equal(await store.get(id), undefined, `deleted ${id} came back`);
      await store.stop();
      assert.deepEqual(
        missing,
        [],
        `after a kill at ${Math.round(ms)} ms, ${missing.length} of ${everAcked.size} acked ids were lost`,
      );
    }
    assert.ok(everAcked.size > 1000, `the writer acked only ${everAcked.size} messages`);
  });
});
