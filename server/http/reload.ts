// POST /reload (doc/architecture.md §10): re-read the config (flags and environment as at start, the TOML file
// and the groups file again) and apply what can change in a running broker. Everything else that
// changed is reported as needing a restart, never half-applied.
import { isDeepStrictEqual } from 'node:util';
import { type BrokerConfig, validateConfig } from '../config';
import type { Logger } from '../logger';
import type { ReloadResult } from './admin-port';

/** Keys a running broker applies at once (each is read where it is used, or rebuilt on reload). */
export const LIVE_KEYS: readonly (keyof BrokerConfig)[] = Object.freeze([
  'groups', // GroupAccess rebuilt: new keys and publish/subscribe lists for the next handshakes
  'publishPermitsPerSecond', // the publish token bucket is rebuilt
  'deliveryTimeoutMs',
  'clientIdleMs',
  'maxUndeliveredBytes',
  'logLevel',
  'httpToken',
]);

export interface ReloadPlan {
  live: (keyof BrokerConfig)[];
  restartRequired: (keyof BrokerConfig)[];
}

export function planReload(current: BrokerConfig, next: BrokerConfig): ReloadPlan {
  const live: (keyof BrokerConfig)[] = [];
  const restartRequired: (keyof BrokerConfig)[] = [];
  const keys = new Set([...Object.keys(current), ...Object.keys(next)] as (keyof BrokerConfig)[]);
  for (const key of keys) {
    if (isDeepStrictEqual(current[key], next[key])) continue;
    (LIVE_KEYS.includes(key) ? live : restartRequired).push(key);
  }
  return { live, restartRequired };
}

export interface ReloadTarget {
  /** the running config: live keys are changed in place, where the broker's parts read them */
  config: BrokerConfig;
  /** flags and environment as at start, the TOML and groups files again (server/cli.ts) */
  loadConfig: () => BrokerConfig | Promise<BrokerConfig>;
  log: Logger;
  /** groups changed: rebuild the group access and filter the bindings again */
  onGroupsChanged: () => void;
  /** publishPermitsPerSecond changed: rebuild the publish token bucket */
  onPublishRateChanged: () => void;
}

/** Re-reads the config and applies its live keys; the rest is reported as needing a restart. */
export async function reloadConfig(target: ReloadTarget): Promise<ReloadResult> {
  const { config, log } = target;
  const next = validateConfig(await target.loadConfig());
  const plan = planReload(config, next);
  for (const key of plan.live) (config as unknown as Record<string, unknown>)[key] = next[key];
  if (plan.live.includes('groups')) target.onGroupsChanged();
  if (plan.live.includes('publishPermitsPerSecond')) target.onPublishRateChanged();
  if (plan.live.includes('logLevel')) log.level = config.logLevel;
  log.info({ applied: plan.live, restartRequired: plan.restartRequired }, 'config reloaded');
  return { applied: plan.live, restartRequired: plan.restartRequired };
}
