// Transactions (doc/console.md, doc/transactions.md): prepared messages by next check-back (GET /transactions).
import { getJson } from './api';
import { relative, time } from './format';
import { html } from './html';
import { MessageCells } from './message-link';
import { usePoll } from './poll';

interface Prepared {
  messageId: string;
  topic: string;
  messageType: string;
  publishGroup: string;
  publishTime: string;
  checkCount: number;
  nextCheck: string;
}

export function TransactionsView() {
  const { data, error } = usePoll(() => getJson<{ items: Prepared[]; next: string | null }>('/transactions?limit=200'));
  return html`<section aria-labelledby="tx-title">
    <h1 id="tx-title">Transactions</h1>
    <p class="muted">
      Prepared messages wait for their producer's commit or rollback; the broker asks it (a check-back) when one is due.
    </p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <div class="table-wrap">
      <table data-testid="tx-table">
        <thead>
          <tr>
            <th>Message</th>
            <th>Topic / type</th>
            <th>Producer group</th>
            <th>Published</th>
            <th class="num">Check-backs</th>
            <th>Next check</th>
          </tr>
        </thead>
        <tbody>
          ${
            data && data.items.length === 0
              ? html`<tr>
                  <td colspan="6">No prepared message.</td>
                </tr>`
              : null
          }
          ${data?.items.map(
            (m) =>
              html`<tr>
                <${MessageCells} m=${m} />
                <td>${time(m.publishTime)}</td>
                <td class="num">${m.checkCount}</td>
                <td>${relative(m.nextCheck)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${data?.next ? html`<p class="muted">The first 200 shown.</p>` : null}
  </section>`;
}
