// An HTTP gateway caller for specs (doc/http-gateway.md): Basic auth as groupId:secretKey, JSON
// answers. Plain fetch, as a PHP or shell client would use plain HTTP.

export interface GatewayAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface PulledMessage {
  messageId: string;
  topic: string;
  messageType: string;
  groupId: string;
  properties: Record<string, string>;
  attempt: number;
  body?: string;
  bodyBase64?: string;
}

export class GatewayCaller {
  constructor(
    /** http://host:port */
    readonly base: string,
    readonly groupId: string,
    readonly secretKey: string,
  ) {}

  async request<T = unknown>(method: string, path: string, json?: unknown): Promise<GatewayAnswer<T>> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${this.groupId}:${this.secretKey}`).toString('base64')}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  /** GET /v1/groups/{group}/messages of this caller's own group (or `group`) */
  pull(
    query: { topic: string; type: string; max?: number; wait?: number },
    group = this.groupId,
  ): Promise<GatewayAnswer<PulledMessage[]>> {
    const q = new URLSearchParams({ topic: query.topic, type: query.type });
    if (query.max !== undefined) q.set('max', String(query.max));
    if (query.wait !== undefined) q.set('wait', String(query.wait));
    return this.request('GET', `/v1/groups/${encodeURIComponent(group)}/messages?${q.toString()}`);
  }

  settle(
    ids: { ack?: string[]; nack?: string[] },
    group = this.groupId,
  ): Promise<GatewayAnswer<{ results: Record<string, string> }>> {
    return this.request('POST', `/v1/groups/${encodeURIComponent(group)}/acks`, ids);
  }
}
