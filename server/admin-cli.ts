#!/usr/bin/env node
// kiteq-admin: the operator's CLI over the broker's admin HTTP API (doc/architecture.md §10, doc/operations.md).
// Readable tables by default, the endpoint's JSON with --json.
import { Command, Option } from 'commander';

interface Global {
  url: string;
  token?: string;
  json?: boolean;
}

class AdminError extends Error {}

async function call(g: Global, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (g.token) headers.authorization = `Bearer ${g.token}`;
  let res: Response;
  try {
    res = await fetch(new URL(path, g.url), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new AdminError(
      `cannot reach ${g.url}: ${(error as Error).cause ?? (error as Error).message} (is the broker started with --http?)`,
    );
  }
  const text = await res.text();
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    /* /metrics and errors from proxies are text */
  }
  if (!res.ok)
    throw new AdminError(`${method} ${path}: HTTP ${res.status}: ${(value as { error?: string })?.error ?? text}`);
  return value;
}

/** Left-aligned columns, a header line, and "(none)" for an empty table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return `${headers.join('  ')}\n(none)\n`;
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

type Stat = {
  kiteq: {
    message_count: Record<string, number>;
    topics_recieve: Record<string, number>;
    topics_deliver: Record<string, number>;
    groups: Record<string, string[]>;
    deliver_go: number;
  };
  network: { connections: number };
  kiteq_ts?: {
    server: string;
    flows_last_second: { byGroup: Record<string, Record<string, number>> };
    latency_ms: Record<string, { count: number; p50: number; p99: number; p999: number }>;
    store: { ok: boolean; probeMs: number; lastError?: string };
  };
};

function printStat(s: Stat): string {
  const k = s.kiteq;
  const ts = s.kiteq_ts;
  let out = `server ${ts?.server ?? '?'}  connections ${s.network.connections}  deliveries in flight ${k.deliver_go}  store ${ts ? (ts.store.ok ? `ok (probe ${ts.store.probeMs} ms)` : `FAILING: ${ts.store.lastError}`) : '?'}\n\n`;
  out += table(
    ['TOPIC', 'BACKLOG', 'RECEIVED/S', 'DELIVERED/S'],
    Object.keys(k.message_count)
      .sort()
      .map((t) => [t, k.message_count[t], k.topics_recieve[t] ?? 0, k.topics_deliver[t] ?? 0]),
  );
  if (ts) {
    const groups = Object.entries(ts.flows_last_second.byGroup).sort(([a], [b]) => a.localeCompare(b));
    out += `\n${table(
      ['GROUP', 'DELIVERED/S', 'ACKED/S', 'FAILED/S', 'ONLINE'],
      groups.map(([g, f]) => [g, f.delivered, f.acked, f.failed, (k.groups[g] ?? []).length]),
    )}`;
    out += `\n${table(
      ['LATENCY (ms)', 'COUNT', 'P50', 'P99', 'P99.9'],
      Object.entries(ts.latency_ms).map(([name, p]) => [name, p.count, p.p50, p.p99, p.p999]),
    )}`;
  }
  return out;
}

function printBinds(b: {
  topic_2_groups: Record<string, string[]>;
  topic_limiters: Record<string, Record<string, [number, number]>>;
}): string {
  const rows: (string | number)[][] = [];
  for (const topic of Object.keys(b.topic_2_groups).sort()) {
    for (const group of b.topic_2_groups[topic]) {
      const [used, watermark] = b.topic_limiters[topic]?.[group] ?? [0, 0];
      rows.push([topic, group, used, watermark]);
    }
  }
  return table(['TOPIC', 'GROUP', 'DELIVERED/S', 'WATERMARK'], rows);
}

function printMessage(m: Record<string, unknown>): string {
  const h = m.header as Record<string, unknown>;
  const list = (v: unknown) => ((v as string[]).length ? (v as string[]).join(',') : '-');
  const lines: [string, unknown][] = [
    ['messageId', m.messageId],
    ['state', m.state],
    ['topic', h.topic],
    ['messageType', h.messageType],
    ['publish group', h.groupId],
    ['attempts', `${m.attempts} of ${m.deliverLimit}`],
    ['succeeded groups', list(m.succeededGroups)],
    ['failed groups', list(m.failedGroups)],
    ['pending groups', list(m.pendingGroups)],
    ['in flight', m.inFlight],
    ['next delivery', m.nextDelivery ?? '-'],
    ['published', m.publishTime],
    ['expires', m.expiredTime],
    ['body bytes', m.bodyBytes],
    ['kite server', m.kiteServer],
  ];
  const dead = m.deadLetter as { reason: string; deadTime: string } | null;
  if (dead) lines.push(['dead since', dead.deadTime], ['dead reason', dead.reason]);
  return table(
    ['FIELD', 'VALUE'],
    lines.map(([k, v]) => [k, String(v)]),
  );
}

type Letter = {
  messageId: string;
  topic: string;
  messageType: string;
  attempts: number;
  deadTime: string;
  reason: string;
};

export function buildAdminCommand(write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const program = new Command('kiteq-admin')
    .description("kiteq-ts admin: the broker's admin HTTP API (start the broker with --http)")
    .addOption(
      new Option('--url <url>', 'admin HTTP base URL').env('KITEQ_ADMIN_URL').default('http://127.0.0.1:13801'),
    )
    .addOption(
      new Option('--token <token>', 'bearer token for dlq redrive/delete, cancel and reload').env('KITEQ_HTTP_TOKEN'),
    )
    .option('--json', 'print the JSON the endpoint returned');
  const g = () => program.opts<Global>();
  const out = (value: unknown, human: () => string) =>
    write(g().json ? `${JSON.stringify(value, null, 2)}\n` : human());

  program
    .command('stat')
    .description('flows per topic and group, backlog, latency, store health')
    .action(async () => {
      const s = await call(g(), 'GET', '/stat');
      out(s, () => printStat(s as Stat));
    });
  program
    .command('binds')
    .description('groups bound per topic, and their watermarks')
    .action(async () => {
      const b = await call(g(), 'GET', '/binds');
      out(b, () => printBinds(b as Parameters<typeof printBinds>[0]));
    });
  program
    .command('message <id>')
    .description("a message's state, groups and attempts")
    .action(async (id: string) => {
      const m = await call(g(), 'GET', `/messages/${encodeURIComponent(id)}`);
      out(m, () => printMessage(m as Record<string, unknown>));
    });
  const dlq = program.command('dlq').description('dead letters');
  dlq
    .command('list')
    .description('list dead letters')
    .option('--topic <topic>')
    .option('--group <group>', 'only those this group has not acked')
    .option('--after <messageId>', 'page after this id')
    .option('--limit <n>', 'at most n', '100')
    .action(async (o: { topic?: string; group?: string; after?: string; limit: string }) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(o)) if (v !== undefined) q.set(k, String(v));
      const page = (await call(g(), 'GET', `/dlq?${q}`)) as { items: Letter[]; next: string | null };
      out(
        page,
        () =>
          table(
            ['MESSAGE ID', 'TOPIC', 'TYPE', 'ATTEMPTS', 'DEAD SINCE', 'REASON'],
            page.items.map((l) => [l.messageId, l.topic, l.messageType, l.attempts, l.deadTime, l.reason]),
          ) + (page.next ? `more: --after ${page.next}\n` : ''),
      );
    });
  dlq
    .command('redrive [ids...]')
    .description('deliver dead letters again: by id, or all of --topic (and --group)')
    .option('--topic <topic>')
    .option('--group <group>')
    .option('--limit <n>', 'at most n in bulk')
    .action(async (ids: string[], o: { topic?: string; group?: string; limit?: string }) => {
      if (ids.length === 0 && !o.topic)
        throw new AdminError('give message ids, or --topic (and optionally --group) to re-drive in bulk');
      const body =
        ids.length > 0
          ? { ids }
          : { topic: o.topic, group: o.group, limit: o.limit === undefined ? undefined : Number(o.limit) };
      const r = (await call(g(), 'POST', '/dlq/redrive', body)) as { redriven: string[]; missing: string[] };
      out(
        r,
        () =>
          `re-driven: ${r.redriven.length}${r.missing.length ? `\nnot dead letters (skipped): ${r.missing.join(', ')}` : ''}\n`,
      );
    });
  dlq
    .command('delete [ids...]')
    .description('delete dead letters for good: by id, or all matching --topic/--group/--reason')
    .option('--topic <topic>')
    .option('--group <group>')
    .option('--reason <text>', 'reason contains this text')
    .option('--limit <n>', 'at most n in bulk')
    .action(async (ids: string[], o: { topic?: string; group?: string; reason?: string; limit?: string }) => {
      if (ids.length === 0 && !o.topic && !o.group && !o.reason)
        throw new AdminError('give message ids, or --topic, --group or --reason to delete in bulk');
      const body =
        ids.length > 0
          ? { ids }
          : {
              topic: o.topic,
              group: o.group,
              reason: o.reason,
              limit: o.limit === undefined ? undefined : Number(o.limit),
            };
      const r = (await call(g(), 'POST', '/dlq/delete', body)) as { deleted: string[]; missing: string[] };
      out(
        r,
        () =>
          `deleted: ${r.deleted.length}${r.missing.length ? `\nnot dead letters (skipped): ${r.missing.join(', ')}` : ''}\n`,
      );
    });
  program
    .command('scheduled')
    .description('messages waiting for their kiteq.deliverAt, soonest first')
    .option('--topic <topic>')
    .option('--before <time>', 'only those due before (epoch ms or ISO time)')
    .option('--after <cursor>', 'the "more:" of the previous page')
    .option('--limit <n>', 'at most n', '100')
    .action(async (o: { topic?: string; before?: string; after?: string; limit: string }) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(o)) if (v !== undefined) q.set(k, String(v));
      const page = (await call(g(), 'GET', `/scheduled?${q}`)) as {
        items: { messageId: string; topic: string; messageType: string; deliverAt: string }[];
        next: string | null;
      };
      out(
        page,
        () =>
          table(
            ['MESSAGE ID', 'TOPIC', 'TYPE', 'DELIVER AT'],
            page.items.map((s) => [s.messageId, s.topic, s.messageType, s.deliverAt]),
          ) + (page.next ? `more: --after ${page.next}\n` : ''),
      );
    });
  program
    .command('cancel <id>')
    .description('cancel a scheduled message (one whose kiteq.deliverAt has not come)')
    .action(async (id: string) => {
      const r = await call(g(), 'DELETE', `/messages/${encodeURIComponent(id)}`);
      out(r, () => `cancelled ${id}\n`);
    });
  program
    .command('reload')
    .description('re-read the config and apply what can change live')
    .action(async () => {
      const r = (await call(g(), 'POST', '/reload')) as { applied: string[]; restartRequired: string[] };
      out(
        r,
        () =>
          `applied: ${r.applied.join(', ') || '(nothing changed)'}\n${r.restartRequired.length ? `need a restart: ${r.restartRequired.join(', ')}\n` : ''}`,
      );
    });
  return program;
}

async function main(): Promise<void> {
  try {
    await buildAdminCommand().parseAsync(process.argv);
  } catch (error) {
    process.stderr.write(`kiteq-admin: ${(error as Error).message}\n`);
    process.exit(error instanceof AdminError ? 1 : 2);
  }
}

if (require.main === module) void main();
