// Which segments still matter (doc/architecture.md §8 reclaim). A segment is needed while
//  - it holds the MESSAGE record or the latest STATE record of an unfinished message (refs, liveBytes), or
//  - it holds a record that hides an older record still on disk (deps): a tombstone, or the newer copy
//    of a message that compaction moved forward. Deleting it first would let replay resurrect the old one.
// Replay and the running store feed the same calls, so both reach the same verdicts.

export interface SegmentUsage {
  id: number;
  /** bytes written (the file size) */
  size: number;
  /** records of unfinished messages in it (MESSAGE records and latest STATE records) */
  refs: number;
  liveBytes: number;
  /** records in it that hide records in segments still on disk */
  hiding: number;
  /** older segment → count of its records hidden by this one... kept on the older side: */
  hiddenBy: Map<number, number>;
}

export class SegmentLedger {
  private readonly segments = new Map<number, SegmentUsage>();

  add(id: number, size: number): SegmentUsage {
    const usage: SegmentUsage = { id, size, refs: 0, liveBytes: 0, hiding: 0, hiddenBy: new Map() };
    this.segments.set(id, usage);
    return usage;
  }

  get(id: number): SegmentUsage | undefined {
    return this.segments.get(id);
  }

  ids(): number[] {
    return [...this.segments.keys()].sort((a, b) => a - b);
  }

  ref(id: number, bytes: number): void {
    const usage = this.segments.get(id);
    if (!usage) return;
    usage.refs++;
    usage.liveBytes += bytes;
  }

  unref(id: number, bytes: number): void {
    const usage = this.segments.get(id);
    if (!usage) return;
    usage.refs--;
    usage.liveBytes -= bytes;
  }

  /** a record in `newer` hides one in `older`: `newer` must outlive `older` */
  hide(older: number, newer: number): void {
    if (older === newer) return;
    const usage = this.segments.get(older);
    const hider = this.segments.get(newer);
    if (!usage || !hider) return;
    usage.hiddenBy.set(newer, (usage.hiddenBy.get(newer) ?? 0) + 1);
    hider.hiding++;
  }

  /** segments nothing needs any more (never `active`) */
  deletable(active: number): number[] {
    const out: number[] = [];
    for (const usage of this.segments.values()) {
      if (usage.id !== active && usage.refs === 0 && usage.hiding === 0) out.push(usage.id);
    }
    return out;
  }

  /** segments worth compacting: not active, still needed, and under `liveRatio` live bytes */
  sparse(active: number, liveRatio: number): number[] {
    const out: number[] = [];
    for (const usage of this.segments.values()) {
      if (usage.id === active || usage.refs === 0) continue;
      if (usage.liveBytes < usage.size * liveRatio) out.push(usage.id);
    }
    return out.sort((a, b) => a - b);
  }

  /** Forgets a deleted segment; what it hid is no longer on disk, so its hiders are released. */
  remove(id: number): void {
    const usage = this.segments.get(id);
    if (!usage) return;
    for (const [newer, count] of usage.hiddenBy) {
      const hider = this.segments.get(newer);
      if (hider) hider.hiding -= count;
    }
    this.segments.delete(id);
  }

  totals(): { segments: number; bytes: number; liveBytes: number } {
    let bytes = 0;
    let liveBytes = 0;
    for (const usage of this.segments.values()) {
      bytes += usage.size;
      liveBytes += usage.liveBytes;
    }
    return { segments: this.segments.size, bytes, liveBytes };
  }
}
