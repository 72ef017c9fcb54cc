// Which bound groups want a message (doc/architecture.md §3): direct = exact messageType, regx = regular
// expression on messageType (anchored, compiled once per table), fanout = every type of the topic.
import { type Binding, BindType } from './binding';

interface CompiledBinding {
  binding: Binding;
  regex?: RegExp;
}

/** An immutable table built once per registry change; match() runs per message. */
export class BindingTable {
  private readonly byTopic = new Map<string, CompiledBinding[]>();
  private readonly cache = new Map<string, Binding[]>();

  constructor(readonly bindings: readonly Binding[]) {
    for (const binding of bindings) {
      const compiled: CompiledBinding = { binding };
      // KiteQ uses Go's regexp.MatchString (unanchored); we anchor so "pay" does not match "repay-fail".
      if (binding.bindType === BindType.REGX) compiled.regex = new RegExp(`^(?:${binding.messageType})$`);
      const list = this.byTopic.get(binding.topic) ?? [];
      list.push(compiled);
      this.byTopic.set(binding.topic, list);
    }
  }

  /** Bindings (one per group at most) that match topic/messageType. Cached per pair. */
  match(topic: string, messageType: string): Binding[] {
    const key = `${topic}\u0000${messageType}`;
    let found = this.cache.get(key);
    if (found) return found;
    found = [];
    const seen = new Set<string>();
    for (const { binding, regex } of this.byTopic.get(topic) ?? []) {
      if (seen.has(binding.groupId)) continue;
      const hit =
        binding.bindType === BindType.FANOUT ||
        (binding.bindType === BindType.DIRECT && binding.messageType === messageType) ||
        (regex !== undefined && regex.test(messageType));
      if (hit) {
        seen.add(binding.groupId);
        found.push(binding);
      }
    }
    if (this.cache.size > 10_000) this.cache.clear(); // bounded: messageTypes are chosen by producers
    this.cache.set(key, found);
    return found;
  }

  groupsOf(topic: string): string[] {
    return [...new Set((this.byTopic.get(topic) ?? []).map((c) => c.binding.groupId))];
  }

  bindingFor(topic: string, groupId: string): Binding | undefined {
    return this.byTopic.get(topic)?.find((c) => c.binding.groupId === groupId)?.binding;
  }
}
