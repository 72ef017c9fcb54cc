// A caller of the HTTP gateway (doc/http-gateway.md) over real sockets, as a PHP or curl user would
// be: fetch with HTTP Basic credentials, the answer's status, headers and JSON body.
import { type Agent, type IncomingHttpHeaders, request } from 'node:http';

export interface GatewayAnswer {
  status: number;
  headers: Headers;
  /** the parsed JSON body (or the text when it is not JSON) */
  body: Record<string, unknown>;
}

export interface GatewayCall {
  method?: string;
  /** "group:key" for HTTP Basic; absent: no Authorization header */
  credentials?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

export async function gatewayCall(base: string, path: string, call: GatewayCall = {}): Promise<GatewayAnswer> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.credentials !== undefined) headers.authorization = basic(call.credentials);
  const response = await fetch(`${base}${path}`, { method: call.method ?? 'GET', headers, body: call.body });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, headers: response.headers, body };
}

/** POST /v1/topics/{topic}/messages?type=… */
export function gatewayPublish(
  base: string,
  credentials: string,
  topic: string,
  messageType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  query = '',
): Promise<GatewayAnswer> {
  return gatewayCall(
    base,
    `/v1/topics/${encodeURIComponent(topic)}/messages?type=${encodeURIComponent(messageType)}${query}`,
    {
      method: 'POST',
      credentials,
      headers: { 'content-type': 'text/plain', ...headers },
      body,
    },
  );
}

export interface AgentAnswer {
  /** 0 when the connection failed (broker down, killed mid-request) */
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** POST /v1/topics/trade/messages?type=… over a node:http Agent (keep-alive sockets, as a PHP-FPM pool would hold). */
export function agentPublish(
  agent: Agent,
  gateway: string,
  credentials: string,
  messageType: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<AgentAnswer> {
  return agentPost(
    agent,
    gateway,
    credentials,
    `/v1/topics/trade/messages?type=${encodeURIComponent(messageType)}`,
    body,
    {
      'content-type': 'text/plain',
      ...headers,
    },
  );
}

/** POST /v1/topics/trade/messages:batch?type=… of these messages (a JSON array) over a node:http Agent. */
export function agentPublishBatch(
  agent: Agent,
  gateway: string,
  credentials: string,
  messageType: string,
  messages: readonly { messageId?: string; body: string }[],
): Promise<AgentAnswer> {
  return agentPost(
    agent,
    gateway,
    credentials,
    `/v1/topics/trade/messages:batch?type=${encodeURIComponent(messageType)}`,
    JSON.stringify(messages),
    { 'content-type': 'application/json' },
  );
}

function agentPost(
  agent: Agent,
  gateway: string,
  credentials: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<AgentAnswer> {
  const [host, port] = gateway.split(':');
  return new Promise((resolve) => {
    const failed = () => resolve({ status: 0, body: '', headers: {} });
    const req = request(
      {
        agent,
        host,
        port: Number(port),
        method: 'POST',
        path,
        headers: { authorization: basic(credentials), ...headers },
        timeout: 5000,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
        res.once('error', failed);
      },
    );
    req.once('error', failed);
    req.once('timeout', () => req.destroy());
    req.end(body);
  });
}
