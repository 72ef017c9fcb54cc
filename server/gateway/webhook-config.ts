// `webhook: {url, concurrency, timeoutMs}` of a group in the groups file (doc/http-gateway.md
// "Webhook push"), checked at start and at reload: a bad value names the group and the key.

export interface WebhookConfig {
  /** http:// or https:// URL each delivery is POSTed to */
  url: string;
  /** POSTs in flight at most; default 4 */
  concurrency: number;
  /** a POST not answered within this is a failed delivery; default 5000 */
  timeoutMs: number;
}

export const WEBHOOK_DEFAULTS = { concurrency: 4, timeoutMs: 5000 } as const;
const MAX_CONCURRENCY = 1000;
const MAX_TIMEOUT_MS = 10 * 60_000;

/** `where` names the key (file and list index), `groupId` the group, in every refusal. */
export function parseWebhook(where: string, groupId: string, raw: unknown): WebhookConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new Error(`${where} must be a map {url, concurrency?, timeoutMs?} (group ${groupId})`);
  const w = raw as Record<string, unknown>;
  const unknown = Object.keys(w).filter((k) => !['url', 'concurrency', 'timeoutMs'].includes(k));
  if (unknown.length > 0) throw new Error(`${where}: unknown key(s) ${unknown.join(', ')} (group ${groupId})`);
  let url: URL | undefined;
  try {
    url = typeof w.url === 'string' ? new URL(w.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new Error(`${where}.url must be an http:// or https:// URL (group ${groupId})`);
  const int = (key: 'concurrency' | 'timeoutMs', max: number): number => {
    const value = w[key] ?? WEBHOOK_DEFAULTS[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
      throw new Error(`${where}.${key} must be a whole number from 1 to ${max} (group ${groupId})`);
    return value;
  };
  return {
    url: w.url as string,
    concurrency: int('concurrency', MAX_CONCURRENCY),
    timeoutMs: int('timeoutMs', MAX_TIMEOUT_MS),
  };
}
