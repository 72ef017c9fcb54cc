// The gateway's consume routes (doc/http-gateway.md "Pull consume"):
//   GET  /v1/groups/{group}/messages?topic=&type=&max=&wait=   long-poll, leases what it returns
//   POST /v1/groups/{group}/acks  {"ack": [ids], "nack": [ids]} settles leases, reported per id
// Only the group itself may pull or settle (its Basic credentials name it), and only topics it may
// subscribe to (server/groups.ts), as on the native protocol.
import { Reasons } from '../../protocol/reasons';
import { HttpError, readJsonBody } from '../http/respond';
import type { GroupAccess } from '../groups';
import { BindingRefused, type GatewayConsumers } from './consumers';
import { GatewayError, sendError, sendJson } from './gateway-error';
import type { SettleOutcome } from './pull-consumer';
import type { GatewayRoute, RouteContext } from './route';

/** a poll's answer holds at most this many messages */
export const MAX_PULL = 1000;
export const DEFAULT_PULL = 10;
/** a poll waits at most this long for a first message */
export const MAX_WAIT_SEC = 30;
/** ids settled by one acks request at most */
export const MAX_SETTLE_IDS = 10_000;

export interface ConsumeRoutesDeps {
  consumers: GatewayConsumers;
  access: () => GroupAccess;
  /** the topics this broker serves */
  topics: readonly string[];
}

export function consumeRoutes(deps: ConsumeRoutesDeps): GatewayRoute[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/groups\/([^/]+)\/messages$/,
      handle: (ctx) => answer(ctx, () => pull(deps, ctx)),
    },
    { method: 'POST', pattern: /^\/v1\/groups\/([^/]+)\/acks$/, handle: (ctx) => answer(ctx, () => settle(deps, ctx)) },
  ];
}

async function answer(ctx: RouteContext, run: () => Promise<unknown>): Promise<void> {
  try {
    const value = await run();
    if (!ctx.res.writableEnded && !ctx.res.destroyed) sendJson(ctx.res, 200, value);
  } catch (error) {
    if (error instanceof GatewayError) return sendError(ctx.res, error);
    if (error instanceof HttpError)
      return sendError(ctx.res, new GatewayError(error.status, 'bad_request', error.message));
    throw error;
  }
}

function ownGroup(ctx: RouteContext): string {
  const group = ctx.params[0];
  if (group !== ctx.caller.groupId)
    throw new GatewayError(
      403,
      'forbidden',
      `authenticated as group ${ctx.caller.groupId}: only the group itself may pull or settle its messages`,
    );
  return group;
}

function intParam(ctx: RouteContext, name: string, fallback: number, min: number, max: number): number {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min)
    throw new GatewayError(400, 'bad_request', `${name} must be a number of at least ${min}`);
  return Math.min(max, name === 'wait' ? value : Math.floor(value));
}

async function pull(deps: ConsumeRoutesDeps, ctx: RouteContext): Promise<unknown> {
  const group = ownGroup(ctx);
  const topic = ctx.query.get('topic') ?? '';
  const messageType = ctx.query.get('type') ?? '';
  if (topic === '' || messageType === '')
    throw new GatewayError(400, 'bad_request', 'topic and type are required (type=* takes every message type)');
  if (!deps.topics.includes(topic))
    throw new GatewayError(404, 'topic_not_served', `${Reasons.topicNotServed.text} (${topic})`);
  if (!deps.access().maySubscribe(group, topic))
    throw new GatewayError(403, 'forbidden', `Group Not Allowed To Subscribe This Topic! (${group} → ${topic})`);
  const max = intParam(ctx, 'max', DEFAULT_PULL, 1, MAX_PULL);
  const waitMs = Math.round(intParam(ctx, 'wait', 0, 0, MAX_WAIT_SEC) * 1000);
  let consumer;
  try {
    consumer = deps.consumers.pollingConsumer(group, topic, messageType);
  } catch (error) {
    if (error instanceof BindingRefused) throw new GatewayError(400, 'binding_refused', error.message);
    throw error;
  }
  consumer.touch(ctx.caller.remote);
  const poll = consumer.poll(topic, messageType, max, waitMs);
  // The poller hung up while waiting: nothing is leased to a connection that cannot take it.
  const onClose = () => poll.cancel();
  ctx.res.once('close', onClose);
  const messages = await poll.messages;
  ctx.res.off('close', onClose);
  if (messages.length > 0 && (ctx.res.destroyed || ctx.res.writableEnded))
    consumer.settle(
      messages.map((m) => m.messageId),
      false,
    );
  return messages;
}

async function settle(deps: ConsumeRoutesDeps, ctx: RouteContext): Promise<unknown> {
  const group = ownGroup(ctx);
  const body = await readJsonBody(ctx.req);
  const ack = idList(body, 'ack');
  const nack = idList(body, 'nack');
  if (ack.length + nack.length > MAX_SETTLE_IDS)
    throw new GatewayError(400, 'bad_request', `at most ${MAX_SETTLE_IDS} ids per request`);
  const consumer = deps.consumers.pullConsumerOf(group);
  consumer?.touch(ctx.caller.remote);
  const results: Record<string, SettleOutcome> = {};
  const outcomes = (ids: string[], ok: boolean): SettleOutcome[] =>
    consumer ? consumer.settle(ids, ok) : ids.map(() => 'not leased');
  outcomes(ack, true).forEach((outcome, i) => (results[ack[i]] = outcome));
  outcomes(nack, false).forEach((outcome, i) => (results[nack[i]] = outcome));
  return { results };
}

function idList(body: Record<string, unknown>, key: string): string[] {
  const value = body[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((id) => typeof id !== 'string'))
    throw new GatewayError(400, 'bad_request', `${key} must be a list of message ids`);
  return value as string[];
}
