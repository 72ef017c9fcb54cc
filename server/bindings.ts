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
  /**
   * Bindings the HTTP gateway's pull consumers made on this broker (doc/http-gateway.md "Pull
   * consume"): honoured at once, whatever the registry reports back (a file:// registry is
   * read-only, ZooKeeper answers later).
   */
  private readonly local: Binding[] = [];
  private current = new BindingTable([]);

  constructor(private readonly deps: BindingsDeps) {}

  get table(): BindingTable {
    return this.current;
  }

  /** the registry's own bindings of the group on the topic, as last reported (unfiltered) */
  registryBindingsOf(groupId: string, topic: string): Binding[] {
    return this.fromRegistry.filter((b) => b.groupId === groupId && b.topic === topic);
  }

  /** the gateway bindings of a group */
  localOf(groupId: string): Binding[] {
    return this.local.filter((b) => b.groupId === groupId);
  }

  /** Adds a gateway binding (kept for the broker's life); false when it was there already. */
  addLocal(binding: Binding): boolean {
    if (this.local.some((b) => sameBinding(b, binding))) return false;
    this.local.push(binding);
    this.update(this.fromRegistry);
    return true;
  }

  /** The registry's whole set, as reported by watchBindings. */
  update(reported: Binding[]): void {
    const { log, maySubscribe } = this.deps;
    this.fromRegistry = reported;
    const all = [...reported, ...this.local.filter((l) => !reported.some((b) => sameBinding(b, l)))];
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

function sameBinding(a: Binding, b: Binding): boolean {
  return a.groupId === b.groupId && a.topic === b.topic && a.messageType === b.messageType && a.bindType === b.bindType;
}
