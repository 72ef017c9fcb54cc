// One broker per store directory (doc/architecture.md §8): <dir>/LOCK holds the owner's pid. A LOCK left by a
// dead process (a crash, SIGKILL) is taken over; one whose pid is alive is refused.
import { promises as fs } from 'node:fs';
import path from 'node:path';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(dir: string): Promise<string> {
  const lockPath = path.join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return lockPath;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number((await fs.readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new Error(`file store ${dir} is locked by process ${pid} (${lockPath}); two brokers cannot share a store`);
    }
    await fs.rm(lockPath, { force: true }); // stale: its owner is gone
  }
  throw new Error(`file store ${dir}: could not take ${lockPath}`);
}

export async function releaseLock(lockPath: string): Promise<void> {
  await fs.rm(lockPath, { force: true });
}
