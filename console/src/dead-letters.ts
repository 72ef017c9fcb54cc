// Dead letters (doc/console.md): filter by topic, group, reason and time (GET /dlq); re-drive or delete
// one, a selection, or all matching (POST /dlq/redrive, /dlq/delete) after a confirmation with the count.
import { useState } from 'preact/hooks';
import { act, ApiError, getJson } from './api';
import { confirmAction } from './confirm-dialog';
import { count, relative } from './format';
import { html } from './html';
import { MessageLink } from './message-link';
import { usePoll } from './poll';

interface Letter {
  messageId: string;
  topic: string;
  messageType: string;
  reason: string;
  deadTime: string;
  attempts: number;
  failedGroups: string[];
}

interface Filter {
  topic: string;
  group: string;
  reason: string;
  from: string;
  to: string;
}

const EMPTY: Filter = { topic: '', group: '', reason: '', from: '', to: '' };
/** the broker takes at most this many ids a call (server/http/dlq.ts) */
const BATCH = 10_000;

function query(filter: Filter): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter))
    if (v) q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v);
  return q;
}

function describe(filter: Filter): string {
  const parts = Object.entries(filter)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${k === 'reason' ? `contains "${v}"` : `= ${v}`}`);
  return parts.length === 0 ? 'every dead letter' : parts.join(', ');
}

type Verb = 'redrive' | 'delete';
const VERB_TEXT: Record<Verb, string> = { redrive: 'Re-drive', delete: 'Delete' };

export function DeadLettersView() {
  const [draft, setDraft] = useState<Filter>(EMPTY);
  const [filter, setFilter] = useState<Filter>(EMPTY);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const list = usePoll(
    () => getJson<{ items: Letter[]; next: string | null }>(`/dlq?${query(filter)}&limit=200`),
    1000,
    [filter],
  );
  const items = list.data?.items ?? [];

  const run = async (verb: Verb, ids: string[] | null) => {
    setNotice(null);
    setFailure(null);
    let total = ids?.length ?? 0;
    if (ids === null) {
      const counted = await getJson<{ count: number; capped: boolean }>(`/dlq/count?${query(filter)}`);
      total = counted.count;
      if (total === 0) return setNotice('Nothing matches the filter.');
    }
    const what = `${count(total)} dead letter${total === 1 ? '' : 's'}`;
    const scope = ids === null ? ` matching ${describe(filter)}` : '';
    const consequence = verb === 'redrive' ? 'They are delivered again at once.' : 'They are removed for good.';
    if (!(await confirmAction(`${VERB_TEXT[verb]} ${what}${scope}? ${consequence}`, `${VERB_TEXT[verb]} ${what}`)))
      return;
    try {
      let done = 0;
      const path = `/dlq/${verb}`;
      const field = verb === 'redrive' ? 'redriven' : 'deleted';
      if (ids !== null) {
        const r = await act<Record<string, string[]>>('POST', path, { ids });
        done = r[field].length;
      } else {
        const body = Object.fromEntries(query(filter));
        // never more than the count confirmed, a batch a call
        while (done < total) {
          const r = await act<Record<string, string[]>>('POST', path, {
            ...body,
            limit: Math.min(BATCH, total - done),
          });
          if (r[field].length === 0) break;
          done += r[field].length;
        }
      }
      setSelected(new Set());
      setNotice(`${verb === 'redrive' ? 'Re-drove' : 'Deleted'} ${count(done)} dead letter${done === 1 ? '' : 's'}.`);
      list.refresh();
    } catch (e) {
      setFailure((e as ApiError).message);
    }
  };

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const field = (name: keyof Filter, label: string, type = 'text') =>
    html`<label
      >${label}
      <input
        type=${type}
        name=${name}
        value=${draft[name]}
        onInput=${(e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })}
    /></label>`;
  const chosen = items.filter((l) => selected.has(l.messageId)).map((l) => l.messageId);

  return html`<section aria-labelledby="dlq-title">
    <h1 id="dlq-title">Dead letters</h1>
    <form
      class="filters"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        setSelected(new Set());
        setFilter(draft);
      }}
    >
      ${field('topic', 'Topic')} ${field('group', 'Not acked by group')} ${field('reason', 'Reason contains')}
      ${field('from', 'Dead since', 'datetime-local')} ${field('to', 'Dead until', 'datetime-local')}
      <button type="submit" class="primary">Filter</button>
      <button type="button" onClick=${() => (setDraft(EMPTY), setFilter(EMPTY), setSelected(new Set()))}>Clear</button>
    </form>
    <div class="toolbar">
      <button type="button" disabled=${chosen.length === 0} onClick=${() => run('redrive', chosen)}>
        Re-drive selected (${chosen.length})
      </button>
      <button type="button" disabled=${chosen.length === 0} onClick=${() => run('delete', chosen)}>
        Delete selected (${chosen.length})
      </button>
      <button type="button" disabled=${items.length === 0} onClick=${() => run('redrive', null)}>
        Re-drive all matching…
      </button>
      <button type="button" class="danger" disabled=${items.length === 0} onClick=${() => run('delete', null)}>
        Delete all matching…
      </button>
    </div>
    ${notice ? html`<p class="notice" role="status" data-testid="dlq-notice">${notice}</p>` : null}
    ${failure ? html`<p class="error" role="alert" data-testid="dlq-error">${failure}</p>` : null}
    ${list.error ? html`<p class="error" role="alert">${list.error}</p>` : null}
    <div class="table-wrap">
      <table data-testid="dlq-table">
        <thead>
          <tr>
            <th><span class="sr">Select</span></th>
            <th>Message</th>
            <th>Topic / type</th>
            <th>Reason</th>
            <th>Dead</th>
            <th class="num">Attempts</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          ${
            items.length === 0
              ? html`<tr>
                  <td colspan="7">No dead letters${filter === EMPTY ? '' : ' match the filter'}.</td>
                </tr>`
              : null
          }
          ${items.map(
            (l) =>
              html`<tr data-testid=${`dlq-${l.messageId}`}>
                <td>
                  <input
                    type="checkbox"
                    aria-label=${`select ${l.messageId}`}
                    checked=${selected.has(l.messageId)}
                    onChange=${() => toggle(l.messageId)}
                  />
                </td>
                <td>
                  <${MessageLink} id=${l.messageId} />
                </td>
                <td>${l.topic} / ${l.messageType}</td>
                <td>${l.reason}</td>
                <td>${relative(l.deadTime)}</td>
                <td class="num">${l.attempts}</td>
                <td class="row-actions">
                  <button type="button" onClick=${() => run('redrive', [l.messageId])}>Re-drive</button>
                  <button type="button" class="danger" onClick=${() => run('delete', [l.messageId])}>Delete</button>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${list.data?.next ? html`<p class="muted">The first 200 shown; narrow the filter to see others. "All matching" acts on every one.</p>` : null}
  </section>`;
}
