// Overview (doc/console.md): this broker, its peers, topics, live rate and backlog charts over the
// last 15 minutes (the server keeps them: GET /history), store health, uptime, version.
import { useRef, useState } from 'preact/hooks';
import { getJson } from './api';
import { Chart } from './chart';
import { count, duration, rate } from './format';
import { html } from './html';
import { usePoll } from './poll';

interface Overview {
  server: string;
  version: string;
  uptimeSec: number;
  peers: string[];
  topics: string[];
  connections: number;
  inFlight: number;
  flowsLastSecond: Record<string, number>;
  backlog: Record<string, number>;
  backlogTotal: number;
  backlogAgeMs: number | null;
  store: {
    kind: string;
    durable: boolean;
    health: { ok: boolean; probeMs: number; lastError?: string };
    damage: { ranges: number; bytes: number } | null;
    writes: { batches: number; writeMs: number; failedBatches: number } | null;
    disk: { freeBytes: number; totalBytes: number } | null;
  };
  latencyMs: Record<string, { p50: number; p99: number; count: number }>;
  tokenConfigured: boolean;
}

interface History {
  t: number[];
  series: Record<string, number[]>;
}

const RATE_LINES = [
  { key: 'received', label: 'publish', color: '#2563eb' },
  { key: 'delivered', label: 'deliver', color: '#16a34a' },
  { key: 'acked', label: 'ack', color: '#9333ea' },
  { key: 'retried', label: 'retry', color: '#dc2626' },
];
const WINDOW_MS = 15 * 60 * 1000;

/** The last 15 minutes, fetched whole once and then only what is newer at every poll. */
function useHistory(): History {
  const [history, setHistory] = useState<History>({ t: [], series: {} });
  const last = useRef(0);
  usePoll(async () => {
    const fresh = await getJson<History>(`/history?since=${last.current}`);
    if (fresh.t.length === 0) return;
    last.current = fresh.t[fresh.t.length - 1];
    setHistory((old) => {
      const cut = Date.now() - WINDOW_MS;
      const t = [...old.t, ...fresh.t];
      const from = t.findIndex((x) => x >= cut);
      const series: Record<string, number[]> = {};
      for (const [key, values] of Object.entries(fresh.series))
        series[key] = [...(old.series[key] ?? []), ...values].slice(from);
      return { t: t.slice(from), series };
    });
  });
  return history;
}

/** Some brokers announce a host the browser cannot reach; the console is at broker port + 1 by convention. */
function consoleUrl(address: string): string {
  const i = address.lastIndexOf(':');
  return `http://${address.slice(0, i)}:${Number(address.slice(i + 1)) + 1}/`;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** disk room, write failures and damage found at start: what a file store can say about its disk */
function storeDetails(store: Overview['store']) {
  const parts: string[] = [];
  if (store.disk) parts.push(`${bytes(store.disk.freeBytes)} free of ${bytes(store.disk.totalBytes)}`);
  if (store.writes) {
    const mean = store.writes.batches > 0 ? store.writes.writeMs / store.writes.batches : 0;
    parts.push(`fsync mean ${mean.toFixed(2)} ms`);
    if (store.writes.failedBatches > 0) parts.push(`${count(store.writes.failedBatches)} failed writes`);
  }
  if (store.damage && store.damage.ranges > 0) parts.push(`${count(store.damage.ranges)} damaged ranges at start`);
  if (!store.durable) parts.push('not durable');
  return parts.length === 0 ? null : html`<small data-testid="store-details">${parts.join(' · ')}</small>`;
}

function max(values: number[] | undefined): number {
  return values && values.length > 0 ? Math.max(...values) : 0;
}

export function OverviewView() {
  const { data, error } = usePoll(() => getJson<Overview>('/overview'));
  const history = useHistory();
  const seconds = history.t.map((t) => t / 1000);
  const rateData = [seconds, ...RATE_LINES.map((l) => history.series[l.key] ?? [])];
  const backlogData = [seconds, history.series.backlog ?? []];
  return html`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      data
        ? html`<div class="cards">
              <div class="card wide"><span>Broker</span><strong data-testid="server">${data.server}</strong></div>
              <div class="card"><span>Version</span><strong>${data.version}</strong></div>
              <div class="card"><span>Uptime</span><strong>${duration(data.uptimeSec)}</strong></div>
              <div class="card">
                <span>Connections</span><strong data-testid="connections">${count(data.connections)}</strong>
              </div>
              <div class="card"><span>In flight</span><strong>${count(data.inFlight)}</strong></div>
              <div class="card">
                <span>Backlog</span><strong data-testid="backlog">${count(data.backlogTotal)}</strong>
                <small
                  >${data.backlogAgeMs === null ? '' : `counted ${Math.round(data.backlogAgeMs / 1000)} s ago`}</small
                >
              </div>
              <div class="card wide">
                <span>Store</span>
                <strong data-testid="store" class=${data.store.health.ok ? 'ok' : 'bad'}>
                  ${data.store.kind}:// ${data.store.health.ok ? 'ok' : 'failing'}
                </strong>
                <small
                  >${data.store.health.ok ? `probe ${data.store.health.probeMs} ms` : data.store.health.lastError}</small
                >
                ${storeDetails(data.store)}
              </div>
              <div class="card">
                <span>Publish → deliver p99</span><strong>${data.latencyMs.publishToDeliver?.p99 ?? 0} ms</strong>
              </div>
            </div>
            <div class="rates" data-testid="rates">
              ${RATE_LINES.map(
                (l) =>
                  html`<div class="rate">
                    <span class="swatch" data-color=${l.key}></span>${l.label}
                    <strong data-testid=${`rate-${l.label}`}>${rate(data.flowsLastSecond[l.key] ?? 0)}</strong>
                    <small
                      >peak <span data-testid=${`peak-${l.label}`}>${rate(max(history.series[l.key]))}</span></small
                    >
                  </div>`,
              )}
            </div>`
        : html`<p>Loading…</p>`
    }
    <div class="charts">
      <${Chart} title="Messages per second, last 15 minutes" lines=${RATE_LINES} data=${rateData} />
      <${Chart}
        title="Backlog (unfinished messages), last 15 minutes"
        lines=${[{ label: 'backlog', color: '#ea580c' }]}
        data=${backlogData}
      />
    </div>
    <p class="muted" data-testid="samples">${history.t.length} samples, one a second</p>
    ${
      data
        ? html`<div class="two">
            <div>
              <h2>Topics</h2>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Topic</th>
                      <th class="num">Backlog</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${data.topics.map(
                      (t) =>
                        html`<tr>
                          <td>${t}</td>
                          <td class="num" data-testid=${`backlog-${t}`}>${count(data.backlog[t] ?? 0)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>
            </div>
            <div>
              <h2>Brokers in the registry</h2>
              <ul class="plain">
                <li><strong>${data.server}</strong> (this one)</li>
                ${data.peers.map((p) => html`<li><a href=${consoleUrl(p)} rel="noopener">${p}</a></li>`)}
              </ul>
              <p class="muted">
                ${data.peers.length === 0 ? 'No other live broker known (other brokers are listed with a zk:// registry). ' : ''}
                Links assume each console at its broker's port + 1 (the kiteq-admin convention).
              </p>
            </div>
          </div>`
        : null
    }
  </section>`;
}
