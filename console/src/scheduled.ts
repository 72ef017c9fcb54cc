// Scheduled (doc/console.md, doc/delayed-delivery.md): messages waiting for their kiteq.deliverAt
// (GET /scheduled), soonest first; cancel one (DELETE /messages/<id>) after a confirmation.
import { useState } from 'preact/hooks';
import { act, ApiError, getJson } from './api';
import { confirmAction } from './confirm-dialog';
import { relative, time } from './format';
import { html } from './html';
import { MessageCells } from './message-link';
import { usePoll } from './poll';

interface Scheduled {
  messageId: string;
  topic: string;
  messageType: string;
  publishGroup: string;
  deliverAt: string;
}

export function ScheduledView() {
  const list = usePoll(() => getJson<{ items: Scheduled[]; next: string | null }>('/scheduled?limit=200'));
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const cancel = async (m: Scheduled) => {
    setNotice(null);
    setFailure(null);
    if (
      !(await confirmAction(
        `Cancel 1 scheduled message (${m.messageId}, due ${time(m.deliverAt)})? It is deleted and never delivered.`,
        'Cancel 1 message',
      ))
    )
      return;
    try {
      await act('DELETE', `/messages/${m.messageId}`);
      setNotice(`Cancelled ${m.messageId}.`);
      list.refresh();
    } catch (e) {
      setFailure((e as ApiError).message);
    }
  };
  return html`<section aria-labelledby="scheduled-title">
    <h1 id="scheduled-title">Scheduled</h1>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${failure ? html`<p class="error" role="alert">${failure}</p>` : null}
    ${list.error ? html`<p class="error" role="alert">${list.error}</p>` : null}
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Message</th>
            <th>Topic / type</th>
            <th>Producer group</th>
            <th>Delivered</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          ${
            list.data && list.data.items.length === 0
              ? html`<tr>
                  <td colspan="5">No message waits for a later delivery.</td>
                </tr>`
              : null
          }
          ${list.data?.items.map(
            (m) =>
              html`<tr>
                <${MessageCells} m=${m} />
                <td>${relative(m.deliverAt)} <small class="muted">${time(m.deliverAt)}</small></td>
                <td><button type="button" class="danger" onClick=${() => cancel(m)}>Cancel</button></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${list.data?.next ? html`<p class="muted">The 200 soonest shown.</p>` : null}
  </section>`;
}
