// Bounded cache of decoded immutable message parts (doc/architecture.md §8: bodies are not all kept in memory).
// Approximate LRU by bytes with two generations: entries go to `young`; when young holds half the
// budget it becomes `old` and the previous old is dropped; a hit in old moves the entry back to
// young. O(1) per call, no scan (a Map scanned from its head after many deletes is O(n)).
import type { ImmutableMessage } from './record-codec';

// what a decoded header object, its strings and the Buffer wrapper cost beyond the body
const OVERHEAD_BYTES = 700;

interface Entry {
  message: ImmutableMessage;
  bytes: number;
}

function sizeOf(message: ImmutableMessage): number {
  const body = typeof message.body === 'string' ? message.body.length * 2 : message.body.length;
  return body + OVERHEAD_BYTES + message.header.properties.length * 64;
}

export class BodyCache {
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private youngBytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(id: string): ImmutableMessage | undefined {
    const entry = this.young.get(id);
    if (entry) return entry.message;
    const aging = this.old.get(id);
    if (!aging) return undefined;
    this.old.delete(id);
    this.add(id, aging);
    return aging.message;
  }

  /** get() without keeping it: a scan must not push out what get() calls are about to need */
  peek(id: string): ImmutableMessage | undefined {
    return (this.young.get(id) ?? this.old.get(id))?.message;
  }

  put(id: string, message: ImmutableMessage): void {
    const bytes = sizeOf(message);
    if (bytes * 2 > this.maxBytes) return;
    this.delete(id);
    this.add(id, { message, bytes });
  }

  delete(id: string): void {
    const entry = this.young.get(id);
    if (entry) {
      this.young.delete(id);
      this.youngBytes -= entry.bytes;
    } else this.old.delete(id);
  }

  private add(id: string, entry: Entry): void {
    if (this.youngBytes + entry.bytes > this.maxBytes / 2) {
      this.old = this.young;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.young.set(id, entry);
    this.youngBytes += entry.bytes;
  }
}
