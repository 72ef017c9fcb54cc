// Messages (doc/console.md): one message by id (GET /messages/<id>): header, properties, state per
// group, attempts, next delivery; the body (first 4 KiB, hex for bytes) needs the admin token.
import { useEffect, useState } from 'preact/hooks';
import { act, ApiError, getJson } from './api';
import { count, relative, time } from './format';
import { html } from './html';

interface MessageView {
  messageId: string;
  state: string;
  header: Record<string, unknown> & { properties?: { key: string; value: string }[] };
  bodyBytes: number;
  succeededGroups: string[];
  failedGroups: string[];
  pendingGroups: string[];
  attempts: number;
  deliverLimit: number;
  inFlight: boolean;
  nextDelivery: string | null;
  checkCount: number;
  publishTime: string | null;
  expiredTime: string | null;
  kiteServer: string;
  deadLetter: { reason: string; deadTime: string } | null;
}

interface Body {
  kind: 'string' | 'bytes';
  bytes: number;
  truncated: boolean;
  text: string | null;
  hex: string | null;
}

/** Header times are unix seconds; -1 or 0 means none. */
function headerValue(key: string, value: unknown): string {
  if ((key === 'expiredTime' || key === 'createTime') && typeof value === 'number')
    return value > 0 ? `${value} (${new Date(value * 1000).toLocaleString()})` : `${value} (never)`;
  return String(value);
}

function hexLines(hex: string): string {
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 32) {
    const row = hex
      .slice(i, i + 32)
      .replace(/(..)/g, '$1 ')
      .trim();
    lines.push(`${(i / 2).toString(16).padStart(6, '0')}  ${row}`);
  }
  return lines.join('\n');
}

export function MessageViewPage({ id }: { id: string }) {
  const [input, setInput] = useState(id);
  const [message, setMessage] = useState<MessageView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [body, setBody] = useState<Body | null>(null);
  const [bodyError, setBodyError] = useState<string | null>(null);
  useEffect(() => {
    // Only a routed id replaces the field: on opening the view empty, what was typed meanwhile stays.
    if (id) setInput(id);
    setMessage(null);
    setBody(null);
    setBodyError(null);
    setError(null);
    if (!id) return;
    getJson<MessageView>(`/messages/${encodeURIComponent(id)}`).then(setMessage, (e: Error) => setError(e.message));
  }, [id]);
  const showBody = async () => {
    setBodyError(null);
    try {
      setBody(await act<Body>('GET', `/messages/${encodeURIComponent(id)}/body`));
    } catch (e) {
      setBodyError((e as ApiError).message);
    }
  };
  const groupState = (g: string) =>
    message!.succeededGroups.includes(g) ? 'acked' : message!.failedGroups.includes(g) ? 'failed' : 'pending';
  const groups = message
    ? [...new Set([...message.succeededGroups, ...message.failedGroups, ...message.pendingGroups])]
    : [];
  const { properties, ...header } = message?.header ?? {};
  return html`<section aria-labelledby="message-title">
    <h1 id="message-title">Messages</h1>
    <form
      class="search"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        location.hash = `#/messages/${input.trim()}`;
      }}
    >
      <label
        >Message id
        <input
          name="id"
          value=${input}
          onInput=${(e: Event) => setInput((e.target as HTMLInputElement).value)}
          placeholder="32 hex characters"
          spellcheck="false"
      /></label>
      <button type="submit" class="primary">Look up</button>
    </form>
    ${error ? html`<p class="error" role="alert" data-testid="message-error">${error}</p>` : null}
    ${
      message
        ? html`<div class="message" data-testid="message">
            <p class="facts">
              <span>state <strong data-testid="message-state">${message.state}</strong></span>
              <span>attempts <strong>${message.attempts} of ${message.deliverLimit}</strong></span>
              <span
                >${message.state === 'prepared' ? 'next check' : 'next delivery'}
                <strong>${relative(message.nextDelivery)}</strong></span
              >
              ${message.state === 'prepared' ? html`<span>check-backs <strong>${message.checkCount}</strong></span>` : null}
              <span>in flight <strong>${message.inFlight ? 'yes' : 'no'}</strong></span>
              <span>published <strong>${time(message.publishTime)}</strong></span>
            </p>
            ${
              message.deadLetter
                ? html`<p class="error">
                    Dead letter since ${time(message.deadLetter.deadTime)}: ${message.deadLetter.reason}
                  </p>`
                : null
            }
            <div class="two">
              <div class="table-wrap">
                <table>
                  <caption>
                    Header
                  </caption>
                  <tbody>
                    ${Object.entries(header).map(
                      ([k, v]) =>
                        html`<tr>
                          <th scope="row">${k}</th>
                          <td data-testid=${`header-${k}`}>${headerValue(k, v)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>
              <div>
                <div class="table-wrap">
                  <table>
                    <caption>
                      Properties
                    </caption>
                    <tbody>
                      ${
                        (properties ?? []).length === 0
                          ? html`<tr>
                              <td>none</td>
                            </tr>`
                          : null
                      }
                      ${(properties ?? []).map(
                        (p) =>
                          html`<tr>
                            <th scope="row">${p.key}</th>
                            <td>${p.value}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>
                <div class="table-wrap">
                  <table>
                    <caption>
                      State per group
                    </caption>
                    <tbody>
                      ${
                        groups.length === 0
                          ? html`<tr>
                              <td>no group bound</td>
                            </tr>`
                          : null
                      }
                      ${groups.map(
                        (g) =>
                          html`<tr>
                            <th scope="row">${g}</th>
                            <td data-testid=${`group-state-${g}`}>${groupState(g)}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>
              </div>
            </div>
            <h2>Body <small class="muted">${count(message.bodyBytes)} bytes</small></h2>
            ${
              body
                ? html`<pre class="body" data-testid="message-body">
${body.kind === 'string' ? body.text : hexLines(body.hex ?? '')}</pre>
                    ${body.truncated ? html`<p class="muted">First 4 KiB of ${count(body.bytes)} bytes.</p>` : null}`
                : html`<button type="button" onClick=${showBody}>Show body (admin token)</button>`
            }
            ${bodyError ? html`<p class="error" role="alert">${bodyError}</p>` : null}
          </div>`
        : null
    }
  </section>`;
}
