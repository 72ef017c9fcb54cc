// Groups, their secret keys and the topics they may use (doc/architecture.md §12: KiteQ never checks keys).
// Keys are compared in constant time so response timing does not leak a key's prefix.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseWebhook, type WebhookConfig } from './gateway/webhook-config';

export type { WebhookConfig } from './gateway/webhook-config';

export interface GroupConfig {
  groupId: string;
  secretKey: string;
  /** topics it may publish to; absent = every topic this broker serves */
  publish?: string[];
  /** topics it may bind to; absent = every topic this broker serves */
  subscribe?: string[];
  /** deliveries to this group are POSTed here (doc/http-gateway.md "Webhook push") */
  webhook?: WebhookConfig;
  /**
   * http(s) URL the broker POSTs its tx check-backs to instead of a producer connection
   * (doc/http-gateway.md "Transactions")
   */
  checkUrl?: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export class GroupAccess {
  /** publish/subscribe as sets: looked up per publish, over lists as long as the broker's topics */
  private readonly byId: Map<
    string,
    { keyDigest: Buffer; publish?: Set<string>; subscribe?: Set<string>; checkUrl?: string }
  >;

  /** groups === null: no access control configured, every group and key is accepted */
  constructor(private readonly groups: GroupConfig[] | null) {
    this.byId = new Map(
      (groups ?? []).map((g) => [
        g.groupId,
        {
          keyDigest: digest(g.secretKey),
          publish: g.publish && new Set(g.publish),
          subscribe: g.subscribe && new Set(g.subscribe),
          checkUrl: g.checkUrl,
        },
      ]),
    );
  }

  get enforced(): boolean {
    return this.groups !== null;
  }

  /** null when the group may connect with this key, else the reason. */
  authenticate(groupId: string, secretKey: string): string | null {
    if (!this.enforced) return null;
    const group = this.byId.get(groupId);
    // Hash both sides so the comparison takes the same time whatever the lengths.
    const ok = timingSafeEqual(digest(secretKey), group?.keyDigest ?? digest(`\u0000${secretKey}`));
    if (!group) return `unknown group "${groupId}"`;
    return ok ? null : `wrong secret key for group "${groupId}"`;
  }

  mayPublish(groupId: string, topic: string): boolean {
    const group = this.byId.get(groupId);
    return !this.enforced || group?.publish === undefined || group.publish.has(topic);
  }

  /** groups delivered to by webhook (doc/http-gateway.md "Webhook push") */
  get webhooks(): { groupId: string; webhook: WebhookConfig }[] {
    return (this.groups ?? []).flatMap((g) => (g.webhook ? [{ groupId: g.groupId, webhook: g.webhook }] : []));
  }

  /** the group's check-back URL (doc/http-gateway.md), if it has one */
  checkUrlOf(groupId: string): string | undefined {
    return this.byId.get(groupId)?.checkUrl;
  }

  maySubscribe(groupId: string, topic: string): boolean {
    const group = this.byId.get(groupId);
    // A group the broker does not know cannot connect, so its binding would only keep messages waiting.
    return !this.enforced || (group !== undefined && (group.subscribe === undefined || group.subscribe.has(topic)));
  }
}

function httpUrl(path: string, where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    url = undefined;
  }
  if (typeof value !== 'string' || !url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new Error(`${path}: ${where} must be an http:// or https:// URL`);
  return value;
}

/** Reads `groups: [{groupId, secretKey, publish?, subscribe?, checkUrl?}]` from a YAML file. */
export function loadGroupsFile(path: string): GroupConfig[] {
  const doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as { groups?: unknown };
  if (!Array.isArray(doc.groups)) throw new Error(`${path}: expected a "groups:" list of {groupId, secretKey}`);
  return doc.groups.map((raw, i) => {
    const g = raw as Record<string, unknown>;
    if (typeof g.groupId !== 'string' || g.groupId === '')
      throw new Error(`${path}: groups[${i}].groupId must be a non-empty string`);
    if (typeof g.secretKey !== 'string' && typeof g.secretKey !== 'number') {
      throw new Error(`${path}: groups[${i}].secretKey must be a string (group ${g.groupId})`);
    }
    const list = (key: string): string[] | undefined => {
      if (g[key] === undefined) return undefined;
      if (!Array.isArray(g[key])) throw new Error(`${path}: groups[${i}].${key} must be a list of topics`);
      return (g[key] as unknown[]).map(String);
    };
    return {
      groupId: g.groupId,
      secretKey: String(g.secretKey),
      publish: list('publish'),
      subscribe: list('subscribe'),
      webhook: parseWebhook(`${path}: groups[${i}].webhook`, g.groupId, g.webhook),
      checkUrl: httpUrl(path, `groups[${i}].checkUrl`, g.checkUrl),
    };
  });
}
