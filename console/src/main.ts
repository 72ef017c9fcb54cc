// The kiteq-ts web console (doc/console.md): a hash-routed single page over the admin HTTP API.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { forgetToken, savedToken } from './api';
import { ConfirmDialog } from './confirm-dialog';
import { DeadLettersView } from './dead-letters';
import { GroupsView } from './groups';
import { html } from './html';
import { MessageViewPage } from './message';
import { OverviewView } from './overview';
import { ScheduledView } from './scheduled';
import { TokenDialog } from './token-dialog';
import { TransactionsView } from './transactions';

const VIEWS = [
  { path: 'overview', label: 'Overview' },
  { path: 'groups', label: 'Groups' },
  { path: 'messages', label: 'Messages' },
  { path: 'dlq', label: 'Dead letters' },
  { path: 'transactions', label: 'Transactions' },
  { path: 'scheduled', label: 'Scheduled' },
];

function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/');
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function App() {
  const [view, arg = ''] = useRoute();
  const current = VIEWS.some((v) => v.path === view) ? view : 'overview';
  const [hasToken, setHasToken] = useState(savedToken() !== null);
  useEffect(() => {
    const id = window.setInterval(() => setHasToken(savedToken() !== null), 1000);
    return () => window.clearInterval(id);
  }, []);
  useEffect(() => {
    document.title = `${VIEWS.find((v) => v.path === current)?.label} · kiteq-ts console`;
  }, [current]);
  return html`<header class="top">
      <a class="brand" href="#/overview">kiteq-ts</a>
      <nav aria-label="Views">
        ${VIEWS.map(
          (v) => html`<a href=${`#/${v.path}`} aria-current=${v.path === current ? 'page' : undefined}>${v.label}</a>`,
        )}
      </nav>
      <span class="token-state">
        ${
          hasToken
            ? html`<button type="button" onClick=${() => (forgetToken(), setHasToken(false))}>Forget token</button>`
            : html`<span class="muted">read-only</span>`
        }
      </span>
    </header>
    <main>
      ${current === 'overview' ? html`<${OverviewView} />` : null}
      ${current === 'groups' ? html`<${GroupsView} />` : null}
      ${current === 'messages' ? html`<${MessageViewPage} id=${arg} />` : null}
      ${current === 'dlq' ? html`<${DeadLettersView} />` : null}
      ${current === 'transactions' ? html`<${TransactionsView} />` : null}
      ${current === 'scheduled' ? html`<${ScheduledView} />` : null}
    </main>
    <${TokenDialog} />
    <${ConfirmDialog} />`;
}

render(html`<${App} />`, document.getElementById('app')!);
