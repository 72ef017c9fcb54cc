// file://path.yaml — the single-machine registry in KiteQ's format (doc/architecture.md §3):
//   brokers:  [{address, topics: [...], env}]
//   bindings: [{groupIds: [...], topic, messageType, bindType: direct|regx|fanout, watermark, persistent}]
// Read-only for clients (subscribe/publish only log), re-read when the file changes.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { type Binding, parseBinding } from './binding';
import type { Registry } from './registry';

export interface FileRegistryData {
  brokers: { address: string; topics: string[]; env?: string }[];
  bindings: Binding[];
}

export interface RegistryLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const silent: RegistryLogger = { warn() {}, info() {} };

/** Parses the YAML text; a bad binding is reported through onBad and skipped (doc/architecture.md §3: per group). */
export function parseRegistryYaml(
  text: string,
  onBad: (what: string, error: Error) => void = () => {},
): FileRegistryData {
  const doc = (parseYaml(text) ?? {}) as { brokers?: unknown[]; bindings?: unknown[] };
  const brokers: FileRegistryData['brokers'] = [];
  for (const raw of doc.brokers ?? []) {
    const b = raw as { address?: unknown; topics?: unknown; env?: unknown };
    if (typeof b.address !== 'string' || !Array.isArray(b.topics)) {
      onBad(`broker ${JSON.stringify(raw)}`, new Error('needs address and topics'));
      continue;
    }
    brokers.push({
      address: b.address,
      topics: b.topics.map(String),
      env: typeof b.env === 'string' ? b.env : undefined,
    });
  }
  const bindings: Binding[] = [];
  for (const raw of doc.bindings ?? []) {
    const entry = raw as Record<string, unknown>;
    const groupIds = Array.isArray(entry.groupIds) ? entry.groupIds : [entry.groupId];
    for (const groupId of groupIds) {
      try {
        bindings.push(parseBinding({ ...entry, groupId }));
      } catch (error) {
        onBad(`binding of group ${String(groupId)} on ${String(entry.topic)}`, error as Error);
      }
    }
  }
  return { brokers, bindings };
}

export class FileRegistry implements Registry {
  private data: FileRegistryData;
  /** the text last read from the file (parsed or not): a poll acts only when the file's text differs */
  private text: string;
  /** the last read error reported, so a missing file is logged once, not every poll */
  private readError = '';
  private readonly bindingWatchers: { topics: Set<string>; onChange: (b: Binding[]) => void }[] = [];
  private readonly brokerWatchers: { topic: string; onChange: (a: string[]) => void }[] = [];
  private pollTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    private readonly log: RegistryLogger = silent,
    /** how often to look for changes to the file */
    private readonly pollMs = 1000,
  ) {
    this.text = readFileSync(this.path, 'utf8');
    this.data = this.parse(this.text);
  }

  private parse(text: string): FileRegistryData {
    return parseRegistryYaml(text, (what, error) =>
      this.log.warn({ path: this.path, what, err: error.message }, 'registry: ignoring bad entry'),
    );
  }

  // Polls the file's text against the text `data` came from, not fs.watchFile's stat: watchFile
  // takes its baseline stat asynchronously, so a write landing before it is never reported (the
  // broker keeps the old bindings), and a same-size rewrite within the timestamp granularity
  // leaves the stat unchanged.
  private ensureWatching(): void {
    if (this.pollTimer !== null) return;
    this.pollTimer = setInterval(() => this.poll(), this.pollMs);
    this.pollTimer.unref(); // like watchFile's persistent: false
  }

  private poll(): void {
    const text = this.readText();
    if (text !== undefined && text !== this.text) this.apply(text);
  }

  /** Re-reads the file and notifies watchers; a file that fails to read or parse keeps the last good data. */
  reload(): void {
    const text = this.readText();
    if (text !== undefined) this.apply(text);
  }

  private readText(): string | undefined {
    try {
      const text = readFileSync(this.path, 'utf8');
      this.readError = '';
      return text;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.readError)
        this.log.warn({ path: this.path, err: message }, 'registry: file unreadable, keeping last good data');
      this.readError = message;
      return undefined;
    }
  }

  private apply(text: string): void {
    this.text = text; // a text that fails to parse is not re-parsed every poll
    // An empty file is a writer caught mid-write (truncate, then write), not "no brokers and no
    // bindings": dropping every binding for a poll is the KiteQ gap of doc/architecture.md §12.
    if (text.trim() === '') {
      this.log.warn({ path: this.path }, 'registry: file empty, keeping last good data');
      return;
    }
    try {
      this.data = this.parse(text);
    } catch (error) {
      this.log.warn(
        { path: this.path, err: (error as Error).message },
        'registry: file unparsable, keeping last good data',
      );
      return;
    }
    this.log.info({ path: this.path, bindings: this.data.bindings.length }, 'registry: file reloaded');
    for (const w of this.bindingWatchers) w.onChange(this.bindingsOf(w.topics));
    for (const w of this.brokerWatchers) w.onChange(this.brokersOf(w.topic));
  }

  private bindingsOf(topics: Set<string>): Binding[] {
    return this.data.bindings.filter((b) => topics.has(b.topic));
  }

  private brokersOf(topic: string): string[] {
    return this.data.brokers.filter((b) => b.topics.includes(topic)).map((b) => b.address);
  }

  async registerBroker(): Promise<void> {}
  async unregisterBroker(): Promise<void> {}

  async watchBindings(topics: string[], onChange: (bindings: Binding[]) => void): Promise<void> {
    const watcher = { topics: new Set(topics), onChange };
    this.bindingWatchers.push(watcher);
    this.ensureWatching();
    onChange(this.bindingsOf(watcher.topics));
  }

  async publishTopics(): Promise<void> {}

  async subscribe(groupId: string, bindings: Binding[]): Promise<void> {
    for (const wanted of bindings) {
      const found = this.data.bindings.some(
        (b) => b.groupId === groupId && b.topic === wanted.topic && b.messageType === wanted.messageType,
      );
      if (!found) {
        this.log.warn(
          { path: this.path, groupId, topic: wanted.topic, messageType: wanted.messageType },
          'registry: file registry is read-only; add this binding to the file',
        );
      }
    }
  }

  async watchBrokers(topic: string, onChange: (addresses: string[]) => void): Promise<void> {
    this.brokerWatchers.push({ topic, onChange });
    this.ensureWatching();
    onChange(this.brokersOf(topic));
  }

  async close(): Promise<void> {
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.bindingWatchers.length = 0;
    this.brokerWatchers.length = 0;
  }
}
