// The registry and groups files for a broker the bench runs against with several consumer groups
// or topics (`kiteq-bench conf`, and `kiteq-bench scale` for each broker it starts): the bench's
// groups are bound in the registry (file://, KiteQ's format, doc/architecture.md §3) and admitted
// by the groups file with one secret key.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface BenchConf {
  /** the broker's host:port, as clients reach it */
  address: string;
  topics: string[];
  messageType: string;
  producerGroup: string;
  /** bound to messageType on every topic */
  consumerGroups: string[];
  secretKey: string;
  /** per binding; default 1,000,000 (the bench's consumers take as much as they are given) */
  watermark?: number;
  /** more groups, each bound to one topic and type (a group that never connects keeps its messages pending) */
  extraBindings?: { groupId: string; topic: string; messageType: string }[];
}

export interface BenchConfFiles {
  registryPath: string;
  groupsPath: string;
}

export function writeBenchConf(dir: string, conf: BenchConf): BenchConfFiles {
  mkdirSync(dir, { recursive: true });
  const registryPath = join(dir, 'registry.yaml');
  const groupsPath = join(dir, 'groups.yaml');
  const registry = {
    brokers: [{ address: conf.address, topics: conf.topics, env: 'bench' }],
    bindings: conf.topics.map((topic) => ({
      groupIds: conf.consumerGroups,
      topic,
      messageType: conf.messageType,
      bindType: 'direct',
      watermark: conf.watermark ?? 1_000_000,
      persistent: true,
    })),
  };
  for (const extra of conf.extraBindings ?? [])
    registry.bindings.push({
      groupIds: [extra.groupId],
      topic: extra.topic,
      messageType: extra.messageType,
      bindType: 'direct',
      watermark: conf.watermark ?? 1_000_000,
      persistent: true,
    });
  const groups = {
    groups: [
      { groupId: conf.producerGroup, secretKey: conf.secretKey, publish: conf.topics },
      ...conf.consumerGroups.map((groupId) => ({ groupId, secretKey: conf.secretKey, subscribe: conf.topics })),
      ...(conf.extraBindings ?? []).map(({ groupId, topic }) => ({
        groupId,
        secretKey: conf.secretKey,
        subscribe: [topic],
      })),
    ],
  };
  // no anchors and aliases for the lists every entry shares: a reader refuses over 100 aliases
  writeFileSync(registryPath, stringify(registry, { aliasDuplicateObjects: false }));
  writeFileSync(groupsPath, stringify(groups, { aliasDuplicateObjects: false }));
  return { registryPath, groupsPath };
}
