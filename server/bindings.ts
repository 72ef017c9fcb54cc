// The bindings this broker honours (doc/architecture.md §3): the registry's, minus those of a group
// that may not subscribe to the topic (server/groups.ts). Kept as last reported, so a reload of the
// groups filters them again.
import type { Binding } from '../binding/binding';
import { BindingTable } from '../binding/matcher';
import type { Logger } from './logger';

export interface BindingsDeps {
  log: Logger;
  /** read at each change: a reload's groups apply at once */
  maySubscribe: (groupId: string, topic: string) => boolean;
  /** the table changed: messages kept because no group was bound may be due now */
  onChange: () => void;
}

export class Bindings {
  private fromRegistry: Binding[] = [];
  private current = new BindingTable([]);

  constructor(private readonly deps: BindingsDeps) {}

  get table(): BindingTable {
    return this.current;
  }

  /** The registry's whole set, as reported by watchBindings. */
  update(all: Binding[]): void {
    const { log, maySubscribe } = this.deps;
    this.fromRegistry = all;
    const bindings = all.filter((b) => maySubscribe(b.groupId, b.topic));
    if (bindings.length < all.length) {
      const refused = all.filter((b) => !bindings.includes(b)).map((b) => `${b.groupId}:${b.topic}/${b.messageType}`);
      log.warn({ refused }, 'bindings refused: group may not subscribe to the topic');
    }
    this.current = new BindingTable(bindings);
    log.info({ bindings: bindings.map((b) => `${b.groupId}:${b.topic}/${b.messageType}`) }, 'bindings changed');
    this.deps.onChange();
  }

  /** The groups changed: bindings they refused may be allowed now, and the other way round. */
  refilter(): void {
    this.update(this.fromRegistry);
  }
}
