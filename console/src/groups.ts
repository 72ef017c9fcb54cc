// Groups and bindings (doc/console.md): per group its bindings, consumers online with their warm-up,
// delivery flows of the last second, the backlog of the topics it binds, and its own backlog with
// the age of its oldest undelivered message (GET /groups; doc/console.md "Per-group backlog").
import { getJson } from './api';
import { count, duration, rate, relative } from './format';
import { html } from './html';
import { usePoll } from './poll';

interface Group {
  groupId: string;
  bindings: { topic: string; messageType: string; bindType: string; persistent: boolean; watermark: number }[];
  consumers: { remote: string; connectedAt: string; warmupSec: number; warmupLeftSec: number }[];
  flowsLastSecond: Record<string, number> | null;
  topicBacklog: Record<string, number>;
  /** null until the broker's first count */
  backlog: {
    undelivered: number;
    oldestAgeSec: number | null;
    oldestPublishTime: string | null;
    estimated: boolean;
  } | null;
}

function backlogText(b: Group['backlog']): string {
  if (!b) return 'counting…';
  return `${b.estimated ? '≈ ' : ''}${count(b.undelivered)}`;
}

function oldestText(b: Group['backlog']): string {
  if (!b) return 'counting…';
  return b.oldestAgeSec === null ? '—' : `${b.estimated ? '≥ ' : ''}${duration(b.oldestAgeSec)}`;
}

export function GroupsView() {
  const { data, error } = usePoll(() => getJson<{ groups: Group[]; groupBacklogAgeMs: number | null }>('/groups'));
  const bound = data?.groups.filter((g) => g.bindings.length > 0) ?? [];
  return html`<section aria-labelledby="groups-title">
    <h1 id="groups-title">Groups and bindings</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      bound.length > 0
        ? html`<div class="table-wrap">
              <table data-testid="group-backlog">
                <caption>
                  Backlog per group
                </caption>
                <thead>
                  <tr>
                    <th>Group</th>
                    <th class="num">Backlog</th>
                    <th class="num">Oldest undelivered</th>
                    <th class="num">Clients online</th>
                  </tr>
                </thead>
                <tbody>
                  ${bound.map(
                    (g) =>
                      html`<tr data-testid=${`backlog-${g.groupId}`}>
                        <td>${g.groupId}</td>
                        <td class="num" data-testid="undelivered">${backlogText(g.backlog)}</td>
                        <td class="num" data-testid="oldest" title=${g.backlog?.oldestPublishTime ?? ''}>
                          ${oldestText(g.backlog)}
                        </td>
                        <td class="num">${g.consumers.length}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            <p class="muted">
              Backlog: committed messages of a topic and type the group binds that it has not acked (not dead-lettered,
              not expired); oldest by the broker's receive time. Counted
              ${data?.groupBacklogAgeMs == null ? '' : ` ${duration(data.groupBacklogAgeMs / 1000)} ago`} by a scan of
              the store while this view is open; ≈ marks an estimate from a sample.
            </p>`
        : null
    }
    ${data && data.groups.length === 0 ? html`<p>No group is bound to this broker's topics.</p>` : null}
    ${data?.groups.map((g) => {
      const f = g.flowsLastSecond;
      return html`<article class="group" data-testid=${`group-${g.groupId}`}>
        <h2>${g.groupId}</h2>
        <p class="facts">
          <span>delivered <strong>${rate(f?.delivered ?? 0)}</strong></span>
          <span>acked <strong>${rate(f?.acked ?? 0)}</strong></span>
          <span>failed <strong>${rate(f?.failed ?? 0)}</strong></span>
          <span>clients online <strong data-testid="clients">${g.consumers.length}</strong></span>
        </p>
        ${
          g.bindings.length === 0
            ? html`<p class="muted">No binding on this broker's topics (a producer group, or bound elsewhere).</p>`
            : html`<div class="table-wrap">
                <table>
                  <caption>
                    Bindings
                  </caption>
                  <thead>
                    <tr>
                      <th>Topic</th>
                      <th>Message type</th>
                      <th>Kind</th>
                      <th>Persistent</th>
                      <th class="num">Watermark</th>
                      <th class="num">Topic backlog</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${g.bindings.map(
                      (b) =>
                        html`<tr>
                          <td>${b.topic}</td>
                          <td><code>${b.messageType}</code></td>
                          <td>${b.bindType}</td>
                          <td>${b.persistent ? 'yes' : 'no'}</td>
                          <td class="num">${count(b.watermark)}/s</td>
                          <td class="num">${count(g.topicBacklog[b.topic] ?? 0)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
        ${
          g.consumers.length > 0
            ? html`<div class="table-wrap">
                <table>
                  <caption>
                    Connected clients
                  </caption>
                  <thead>
                    <tr>
                      <th>Address</th>
                      <th>Connected</th>
                      <th>Warm-up</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${g.consumers.map(
                      (c) =>
                        html`<tr>
                          <td><code>${c.remote}</code></td>
                          <td>${relative(c.connectedAt)}</td>
                          <td>
                            ${c.warmupSec === 0 ? 'none' : c.warmupLeftSec > 0 ? `${c.warmupLeftSec} s of ${c.warmupSec} s left` : `done (${c.warmupSec} s)`}
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
            : html`<p class="muted">No client of this group is connected to this broker.</p>`
        }
      </article>`;
    })}
  </section>`;
}
