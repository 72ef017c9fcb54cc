// doc/console.md: the web console in a real browser (Debian's chromium driven by playwright-core, one
// launch for the whole spec) against a broker on real sockets: the page and its assets come from the
// admin HTTP server alone under a strict CSP; publishing moves the rate chart and the backlog; a
// message is looked up by id; a dead letter is re-driven by clicking and delivered; actions without
// the right token are refused with the broker's reason; a phone-width screen does not scroll sideways.
// Screenshots go to $KITEQ_CONSOLE_SHOTS or a temp dir (doc/console/*.png are copies of them).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { directBinding } from '../binding/binding';
import { buildBytesMessage, buildStringMessage, type KiteQClient } from '../client';
import { tempDir } from './support/broker';
import { eventually } from './support/events';
import { withBroker } from './support/with-broker';

const TOKEN = 'console-test-token';
const CHROMIUM = '/usr/bin/chromium';

describe('console - the web console in a real browser', function () {
  this.timeout(60_000);
  const env = withBroker({
    bindings: [
      // online, acks when `accept`: dead letters and their re-drive
      directBinding('s-mc', 'trade', 'pay-succ'),
      // never online: its messages stay stored, the backlog
      directBinding('s-archive', 'trade', 'order-created', { watermark: 200 }),
    ],
    config: { http: '127.0.0.1:0', httpToken: TOKEN },
    store: 'file',
  });
  const shots = process.env.KITEQ_CONSOLE_SHOTS ?? tempDir('kiteq-console-shots-');
  let browser: Browser;
  let page: Page;
  let base: string;
  let producer: KiteQClient;
  let accept = false;
  const received: string[] = [];
  /** console errors (a CSP violation is one) and requests that left the admin server */
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  before(async () => {
    mkdirSync(shots, { recursive: true });
    base = `http://${env.broker.httpAddress}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // a refused request (the 401 and 404 answers the tests provoke) is logged as "Failed to load resource"
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => void (!r.url().startsWith(base) && foreignRequests.push(r.url())));
    producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    await env.startClient({
      groupId: 's-mc',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => (received.push(m.header.messageId), accept),
    });
  });
  after(async () => {
    await browser?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });
  const send = (messageType: string, body: string, deliverLimit?: number) =>
    producer.send(buildStringMessage({ topic: 'trade', messageType, body, deliverLimit, properties: { order: '42' } }));

  /** the confirmation dialog, once open, states this (the count is fetched first for "all matching") */
  const confirmSays = (text: RegExp) => page.getByTestId('confirm-text').filter({ hasText: text }).waitFor();

  async function deadLetter(): Promise<string> {
    const { messageId } = await send('pay-succ', 'poison', 3);
    await eventually(
      async () =>
        (await env.broker.listDeadLetters({ limit: 1000 })).some((l) => l.message.header.messageId === messageId),
      10_000,
      'the dead letter',
    );
    return messageId;
  }

  it('serves the page and its hashed assets with a strict CSP, caching headers and nothing outside its directory', async () => {
    const index = await fetch(`${base}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type')!, /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const csp = index.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline script, no other origin');
    const html = await index.text();
    assert.doesNotMatch(html, /<script>|<style|style=/, 'no inline script or style');
    const script = /src="(\/console\/app-[A-Z0-9]+\.js)"/.exec(html)![1];
    const asset = await fetch(base + script);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type')!, /^text\/javascript/);
    assert.match(asset.headers.get('cache-control')!, /immutable/);
    for (const path of [
      '/console/..%2f..%2fpackage.json',
      '/console/%2e%2e/%2e%2e/package.json',
      '/console/../../package.json',
    ])
      assert.equal((await fetch(base + path)).status, 404, path);
    assert.equal((await fetch(`${base}/console/index.html/x`)).status, 404);
  });

  it('overview: publishing moves the rate chart and the backlog, live', async () => {
    await page.goto(`${base}/`);
    await page.getByTestId('server').filter({ hasText: env.address }).waitFor();
    for (let i = 0; i < 30; i++) await send('order-created', `order ${i}`);
    await page
      .getByTestId('peak-publish')
      .filter({ hasText: /^[1-9]/ })
      .waitFor({ timeout: 10_000 });
    await page.getByTestId('backlog').filter({ hasText: /^30$/ }).waitFor({ timeout: 15_000 });
    await page.getByTestId('backlog-trade').filter({ hasText: /^30$/ }).waitFor();
    assert.equal(await page.locator('.chart canvas').count(), 2, 'two uPlot charts drawn');
    assert.match((await page.getByTestId('store-details').textContent())!, /free of .*fsync mean/, 'the disk');
    const samples = Number((await page.getByTestId('samples').textContent())!.split(' ')[0]);
    assert.ok(samples >= 2, `the charts hold the server's history (${samples} samples)`);
    await shot('overview');
  });

  it('groups: bindings with their kind and watermark, consumers online, the backlog of each group moving live', async () => {
    await page.getByRole('link', { name: 'Groups' }).click();
    const archive = page.getByTestId('group-s-archive');
    await archive.getByRole('cell', { name: 'order-created' }).waitFor();
    assert.match((await archive.textContent())!, /direct.*yes.*200\/s.*30/s);
    await page.getByTestId('group-s-mc').getByTestId('clients').filter({ hasText: '1' }).waitFor();

    // doc/console.md "Per-group backlog": s-archive owes the 30 order-created, s-mc (acks pay-succ) none
    const archiveOwes = page.getByTestId('backlog-s-archive');
    await archiveOwes.getByTestId('undelivered').filter({ hasText: /^30$/ }).waitFor();
    await archiveOwes
      .getByTestId('oldest')
      .filter({ hasText: /^\d+ s$/ })
      .waitFor();
    await page.getByTestId('backlog-s-mc').getByTestId('undelivered').filter({ hasText: /^0$/ }).waitFor();
    assert.equal((await page.getByTestId('backlog-s-mc').getByTestId('oldest').textContent())!.trim(), '—');
    for (let i = 0; i < 5; i++) await send('order-created', `more ${i}`);
    await archiveOwes.getByTestId('undelivered').filter({ hasText: /^35$/ }).waitFor({ timeout: 10_000 });
    await shot('groups');

    // a consumer of s-archive comes online and acks them all: its backlog falls to 0
    const archiver = await env.startClient({
      groupId: 's-archive',
      bindings: [directBinding('s-archive', 'trade', 'order-created', { watermark: 200 })],
      listener: () => true,
    });
    await archiveOwes.getByTestId('undelivered').filter({ hasText: /^0$/ }).waitFor({ timeout: 15_000 });
    await archiveOwes.getByTestId('oldest').filter({ hasText: /^—$/ }).waitFor();
    await archiver.close();
    await archive.getByTestId('clients').filter({ hasText: '0' }).waitFor();
  });

  it('dead letters: without the right token the re-drive is refused with the reason; with it, delivered', async () => {
    const messageId = await deadLetter();
    await page.getByRole('link', { name: 'Dead letters' }).click();
    const row = page.getByTestId(`dlq-${messageId}`);
    await row.waitFor();
    assert.match((await row.textContent())!, /deliverLimit 3 reached/);
    await shot('dead-letters');

    // no token kept: the action asks; a wrong one is refused with the broker's 401 reason
    await row.getByRole('button', { name: 'Re-drive' }).click();
    await confirmSays(/^Re-drive 1 dead letter\?/);
    await page.getByRole('button', { name: 'Re-drive 1 dead letter' }).click();
    const tokenDialog = page.getByRole('dialog', { name: 'Admin token' });
    await tokenDialog.getByLabel('Token').fill('wrong-token');
    await tokenDialog.getByRole('button', { name: 'Use token' }).click();
    await tokenDialog.getByTestId('token-error').filter({ hasText: '401: missing or wrong bearer token' }).waitFor();
    await shot('token-refused');
    await page.keyboard.press('Escape');
    await tokenDialog.waitFor({ state: 'hidden' });
    await page.getByTestId('dlq-error').filter({ hasText: 'cancelled' }).waitFor();
    assert.ok(await row.isVisible(), 'still a dead letter');
    assert.ok(!received.slice(3).includes(messageId), 'not delivered');

    accept = true;
    const attempts = received.length;
    await row.getByRole('button', { name: 'Re-drive' }).click();
    await page.getByRole('button', { name: 'Re-drive 1 dead letter' }).click();
    await tokenDialog.getByLabel('Token').fill(TOKEN);
    await tokenDialog.getByRole('button', { name: 'Use token' }).click();
    await page.getByTestId('dlq-notice').filter({ hasText: 'Re-drove 1 dead letter.' }).waitFor();
    await eventually(() => received.slice(attempts).includes(messageId), 10_000, 'the re-driven delivery');
    await row.waitFor({ state: 'detached' });
    accept = false;
  });

  it('dead letters: delete all matching a filter, after a confirmation stating the count (token kept for the tab)', async () => {
    const [picked, ...ids] = [await deadLetter(), await deadLetter(), await deadLetter()];
    const unauthenticated = await fetch(`${base}/dlq/delete`, { method: 'POST', body: JSON.stringify({ ids }) });
    assert.equal(unauthenticated.status, 401, 'POST /dlq/delete needs the token, like re-drive');
    await page.getByLabel('Reason contains').fill('deliverLimit 3');
    await page.getByRole('button', { name: 'Filter' }).click();
    for (const id of [picked, ...ids]) await page.getByTestId(`dlq-${id}`).waitFor();
    // a selection: the one ticked, nothing else
    await page.getByRole('checkbox', { name: `select ${picked}` }).check();
    await page.getByRole('button', { name: 'Delete selected (1)' }).click();
    await confirmSays(/^Delete 1 dead letter\?/);
    await page.getByRole('button', { name: 'Delete 1 dead letter' }).click();
    await page.getByTestId('dlq-notice').filter({ hasText: 'Deleted 1 dead letter.' }).waitFor();
    await page.getByTestId(`dlq-${picked}`).waitFor({ state: 'detached' });
    assert.equal(await env.broker.store.get(picked), undefined);
    const listed = async (query: string) =>
      ((await (await fetch(`${base}/dlq?${query}`)).json()) as { items: unknown[] }).items.length;
    assert.equal(await listed('to=2000-01-01T00:00:00Z'), 0, 'dead until 2000: none');
    assert.equal(await listed(`from=${Date.now() - 60_000}&reason=DELIVERLIMIT%203`), 2, 'the last minute, by reason');
    await page.getByRole('button', { name: 'Delete all matching…' }).click();
    await confirmSays(/^Delete 2 dead letters matching reason contains "deliverLimit 3"\?/);
    await page.getByRole('button', { name: 'Delete 2 dead letters' }).click();
    await page.getByTestId('dlq-notice').filter({ hasText: 'Deleted 2 dead letters.' }).waitFor();
    assert.deepEqual(await env.broker.listDeadLetters({ limit: 100 }), []);
    for (const id of ids) assert.equal(await env.broker.store.get(id), undefined, 'gone from the store');
  });

  it('messages: looks one up by id, with its header, properties, groups and body', async () => {
    const { messageId } = await send('order-created', 'the body of order 42');
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByLabel('Message id').fill(messageId);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByTestId('message-state').filter({ hasText: 'committed' }).waitFor();
    assert.equal(await page.getByTestId('header-topic').textContent(), 'trade');
    assert.equal(await page.getByTestId('header-messageType').textContent(), 'order-created');
    assert.equal(await page.getByTestId('group-state-s-archive').textContent(), 'pending');
    assert.match((await page.getByTestId('message').textContent())!, /order42/);
    await page.getByRole('button', { name: 'Show body (admin token)' }).click(); // the tab kept the token
    await page.getByTestId('message-body').filter({ hasText: 'the body of order 42' }).waitFor();
    await shot('message');
    assert.equal((await fetch(`${base}/messages/${messageId}/body`)).status, 401, 'bodies need the token');
    const bytes = await producer.send(
      buildBytesMessage({ topic: 'trade', messageType: 'order-created', body: Buffer.alloc(5000, 0xab) }),
    );
    const body = await fetch(`${base}/messages/${bytes.messageId}/body`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.deepEqual(await body.json(), {
      messageId: bytes.messageId,
      kind: 'bytes',
      bytes: 5000,
      truncated: true,
      text: null,
      hex: 'ab'.repeat(4096),
    });
    await page.getByLabel('Message id').fill('0'.repeat(32));
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByTestId('message-error').filter({ hasText: '404' }).waitFor();
  });

  it('transactions and scheduled: a prepared message listed; a scheduled one cancelled by clicking', async () => {
    const prepared = buildStringMessage({ topic: 'trade', messageType: 'order-created', body: 'tx' });
    void producer.sendTxMessage(prepared, () => new Promise<boolean>(() => undefined)); // never decided
    await page.getByRole('link', { name: 'Transactions' }).click();
    const txRow = page.getByTestId('tx-table').getByRole('row').filter({ hasText: prepared.header.messageId });
    await txRow.waitFor();
    assert.match((await txRow.textContent())!, /p-trade/);
    await shot('transactions');

    const later = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'order-created', body: 'later' }),
      {
        delayMs: 3_600_000,
      },
    );
    await page.getByRole('link', { name: 'Scheduled' }).click();
    const row = page.getByRole('row').filter({ hasText: later.messageId });
    await row.waitFor();
    await shot('scheduled');
    await row.getByRole('button', { name: 'Cancel' }).click();
    await confirmSays(/^Cancel 1 scheduled message/);
    await page.getByRole('button', { name: 'Cancel 1 message' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal(await env.broker.store.get(later.messageId), undefined, 'deleted, never delivered');
  });

  it('keyboard: a lookup by Tab, typing and Enter, with the focus drawn', async () => {
    const { messageId } = await send('order-created', 'by keyboard');
    await page.goto(`${base}/#/messages`);
    await page.getByLabel('Message id').waitFor();
    let tabs = 0;
    while (!(await page.evaluate('document.activeElement?.name === "id"'))) {
      assert.ok(++tabs <= 12, 'the id field is reachable by Tab');
      await page.keyboard.press('Tab');
    }
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    assert.notEqual(outline, 'none', 'the focused field is outlined');
    await page.keyboard.type(messageId);
    await page.keyboard.press('Enter');
    await page.getByTestId('header-messageId').filter({ hasText: messageId }).waitFor();
  });

  it('phone width: no view scrolls the page sideways', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      for (const view of ['overview', 'groups', 'messages', 'dlq', 'transactions', 'scheduled']) {
        await page.goto(`${base}/#/${view}`);
        await page.locator('main h1').waitFor();
        await page.locator('main form, main table, main .cards').first().waitFor();
        const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
        assert.ok(overflow <= 0, `${view}: the page is ${overflow} px wider than the screen`);
        if (view === 'overview') await shot('phone-overview');
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('loaded nothing from outside the admin server and broke no CSP rule', () => {
    assert.deepEqual(foreignRequests, []);
    assert.deepEqual(pageErrors, []);
  });
});
