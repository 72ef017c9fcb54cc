// Bounded label cardinality for /metrics: the first `max` distinct values of a label keep their
// name, later ones are folded into "other". The set never shrinks, so a series never moves from
// its own label to "other" and counters stay monotonic.
export const OTHER_LABEL = 'other';

export class LabelCap {
  private readonly kept = new Set<string>();

  constructor(private readonly max: number) {}

  label(value: string): string {
    if (this.kept.has(value)) return value;
    if (this.kept.size < this.max && value !== OTHER_LABEL) {
      this.kept.add(value);
      return value;
    }
    return OTHER_LABEL;
  }
}
