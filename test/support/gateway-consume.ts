// A group consuming over the HTTP gateway (doc/http-gateway.md "Pull consume"), as a PHP or curl
// poller would: its own credentials, GET …/messages and POST …/acks, typed answers.
import { gatewayCall } from './gateway-http';

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

export interface TypedAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export class GatewayCaller {
  constructor(
    /** http://host:port */
    readonly base: string,
    readonly groupId: string,
    readonly secretKey: string,
  ) {}

  async request<T = unknown>(method: string, path: string, json?: unknown): Promise<TypedAnswer<T>> {
    const answer = await gatewayCall(this.base, path, {
      method,
      credentials: `${this.groupId}:${this.secretKey}`,
      ...(json === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) }),
    });
    return { status: answer.status, headers: answer.headers, body: answer.body as T };
  }

  /** GET /v1/groups/{group}/messages, of this caller's own group unless `group` names another */
  pull(
    query: { topic: string; type: string; max?: number; wait?: number },
    group = this.groupId,
  ): Promise<TypedAnswer<PulledMessage[]>> {
    const q = new URLSearchParams({ topic: query.topic, type: query.type });
    if (query.max !== undefined) q.set('max', String(query.max));
    if (query.wait !== undefined) q.set('wait', String(query.wait));
    return this.request('GET', `/v1/groups/${encodeURIComponent(group)}/messages?${q.toString()}`);
  }

  /** POST /v1/groups/{group}/acks */
  settle(
    ids: { ack?: string[]; nack?: string[] },
    group = this.groupId,
  ): Promise<TypedAnswer<{ results: Record<string, string> }>> {
    return this.request('POST', `/v1/groups/${encodeURIComponent(group)}/acks`, ids);
  }
}
