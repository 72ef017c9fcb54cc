// Groups and bindings (doc/console.md): per group its bindings, consumers online with their warm-up,
// delivery flows of the last second and the backlog of the topics it binds (GET /groups).
import { getJson } from './api';
import { count, rate, relative } from './format';
import { html } from './html';
import { usePoll } from './poll';

interface Group {
  groupId: string;
  bindings: { topic: string; messageType: string; bindType: string; persistent: boolean; watermark: number }[];
  consumers: { remote: string; connectedAt: string; warmupSec: number; warmupLeftSec: number }[];
  flowsLastSecond: Record<string, number> | null;
  topicBacklog: Record<string, number>;
}

export function GroupsView() {
  const { data, error } = usePoll(() => getJson<{ groups: Group[] }>('/groups'));
  return html`<section aria-labelledby="groups-title">
    <h1 id="groups-title">Groups and bindings</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <p class="muted">
      Backlog is per topic: the stores count unfinished messages per topic only. A per-group backlog and the age of a
      group's oldest undelivered message would take a scan of every stored message, so they are not shown.
    </p>
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
