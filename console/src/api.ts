// The admin HTTP API from the browser (doc/operations.md "Admin HTTP API"). Reads need nothing;
// actions carry the admin token, asked for once and kept in sessionStorage for this tab only.
import { askToken } from './token-dialog';

const TOKEN_KEY = 'kiteq-admin-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = res.statusText;
  try {
    const body = (await res.json()) as { error?: string };
    if (body.error) message = body.error;
  } catch {
    // not JSON: the status text
  }
  return new ApiError(res.status, `${res.status}: ${message}`);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * An action with the admin token: asks for it when none is kept, and again (showing the broker's
 * reason) after a 401. Rejects with ApiError(0) when the person cancels.
 */
export async function act<T>(method: string, path: string, body?: unknown): Promise<T> {
  let token = savedToken();
  let reason: string | undefined;
  for (;;) {
    if (token === null) {
      token = await askToken(reason);
      if (token === null) throw new ApiError(0, 'cancelled: no admin token given');
    }
    const res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) {
      forgetToken();
      token = null;
      reason = (await errorOf(res)).message;
      continue;
    }
    if (!res.ok) throw await errorOf(res);
    sessionStorage.setItem(TOKEN_KEY, token);
    return (await res.json()) as T;
  }
}
