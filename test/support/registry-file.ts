// Writes a file:// registry (KiteQ's YAML) for a test.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Binding, BindType } from '../../binding/binding';

const bindTypeName = { [BindType.DIRECT]: 'direct', [BindType.REGX]: 'regx', [BindType.FANOUT]: 'fanout' } as const;

export function writeRegistryFile(
  dir: string,
  brokers: { address: string; topics: string[] }[],
  bindings: Binding[],
): string {
  const path = join(dir, 'registry.yaml');
  const doc = {
    brokers: brokers.map((b) => ({ ...b, env: 'test' })),
    bindings: bindings.map((b) => ({
      groupIds: [b.groupId],
      topic: b.topic,
      messageType: b.messageType,
      bindType: bindTypeName[b.bindType],
      watermark: b.watermark,
      persistent: b.persistent,
    })),
  };
  writeFileSync(path, stringify(doc));
  return path;
}
