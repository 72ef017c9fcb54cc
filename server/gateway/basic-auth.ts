// HTTP Basic credentials (RFC 7617) of a gateway request: `groupId:secretKey`, the same pair a
// native client sends in CONN_META (doc/http-gateway.md "Authentication").

export interface BasicCredentials {
  groupId: string;
  secretKey: string;
}

/** The credentials of an `Authorization: Basic …` header; null when absent or not Basic. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  if (header === undefined || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { groupId: decoded.slice(0, colon), secretKey: decoded.slice(colon + 1) };
}
