// file:///abs/dir?fsync=batch&segmentBytes=67108864&cacheBytes=67108864&intervalMs=... (doc/architecture.md §8).
// Also file://./relative/dir (relative to the working directory). Details in doc/file-store.md.
import path from 'node:path';

export type FsyncPolicy = 'always' | 'batch' | 'interval';

export interface FileStoreConfig {
  dir: string;
  fsync: FsyncPolicy;
  /** fsync=interval only: fsync at most this long after a write */
  intervalMs: number;
  /** a segment is closed for writing once it reaches this size */
  segmentBytes: number;
  /** bound of the body cache (decoded messages, LRU by bytes) */
  cacheBytes: number;
  /** a non-active segment with live bytes under this share of its size is compacted */
  compactBelow: number;
  /** emergency space kept for the records that finish messages when the disk fills (0: none) */
  reserveBytes: number;
}

const MiB = 1024 * 1024;

function positiveInt(params: URLSearchParams, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`file store URI: ${name}=${raw} is not an integer between 0 and ${max}`);
  }
  return value;
}

export function parseFileStoreUri(uri: string): FileStoreConfig {
  if (!uri.startsWith('file://')) throw new Error(`file store URI must start with file://, got "${uri}"`);
  const rest = uri.slice('file://'.length);
  const q = rest.indexOf('?');
  const rawPath = decodeURIComponent(q < 0 ? rest : rest.slice(0, q));
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  if (rawPath === '') throw new Error(`file store URI "${uri}" names no directory`);
  const fsync = (params.get('fsync') ?? 'batch') as FsyncPolicy;
  if (!['always', 'batch', 'interval'].includes(fsync)) {
    throw new Error(`file store URI: fsync=${fsync} is not one of always, batch, interval`);
  }
  const compactPercent = positiveInt(params, 'compactBelowPercent', 25, 100);
  // offsets are kept as u32 in the index
  const segmentBytes = Math.max(4096, positiveInt(params, 'segmentBytes', 64 * MiB, 2 ** 31));
  return {
    dir: path.resolve(rawPath),
    fsync,
    intervalMs: Math.max(1, positiveInt(params, 'ms', positiveInt(params, 'intervalMs', 100))),
    segmentBytes,
    cacheBytes: positiveInt(params, 'cacheBytes', 32 * MiB),
    compactBelow: compactPercent / 100,
    reserveBytes: positiveInt(params, 'reserveBytes', Math.min(16 * MiB, segmentBytes)),
  };
}
