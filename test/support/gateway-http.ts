// A caller of the HTTP gateway (doc/http-gateway.md) over real sockets, as a PHP or curl user would
// be: fetch with HTTP Basic credentials, the answer's status, headers and JSON body.

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
