// A binary min-heap of (dueMs, id): O(log n) per scheduled message (doc/architecture.md §6 retry timers).
export class DueHeap {
  private readonly due: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.due.length;
  }

  peekDue(): number | undefined {
    return this.due[0];
  }

  push(dueMs: number, id: string): void {
    this.due.push(dueMs);
    this.ids.push(id);
    let i = this.due.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.due[parent] <= this.due[i]) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { dueMs: number; id: string } | undefined {
    if (this.due.length === 0) return undefined;
    const top = { dueMs: this.due[0], id: this.ids[0] };
    const lastDue = this.due.pop()!;
    const lastId = this.ids.pop()!;
    if (this.due.length > 0) {
      this.due[0] = lastDue;
      this.ids[0] = lastId;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.due.length && this.due[l] < this.due[m]) m = l;
        if (r < this.due.length && this.due[r] < this.due[m]) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    // temporaries, not destructuring: no array allocated per swap
    const due = this.due[a];
    this.due[a] = this.due[b];
    this.due[b] = due;
    const id = this.ids[a];
    this.ids[a] = this.ids[b];
    this.ids[b] = id;
  }
}
