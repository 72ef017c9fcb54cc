// POST /reload (design §10): re-read the config (flags and environment as at start, the TOML file
// and the groups file again) and apply what can change in a running broker. Everything else that
// changed is reported as needing a restart, never half-applied.
import { isDeepStrictEqual } from 'node:util';
import type { BrokerConfig } from '../config';

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
