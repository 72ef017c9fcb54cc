// The gateway's publish and transaction routes (doc/http-gateway.md "Publish", "Transactions"):
// each request goes through the native pipeline (server/pipeline.ts publish / txAck) as a
// one-request connection (request-session.ts), so topic rights, admission, check-message, persist
// and delivery are the same stages a TCP producer meets. 201 comes only with the store-ack.
import { TxStatus } from '../../protocol/messages/tx-ack';
import { encodeMessage } from '../../protocol/messages/message';
import type { MessageHeader } from '../../protocol/messages/header';
import { Reasons } from '../../protocol/reasons';
import type { MessageStore } from '../../store/contract';
import type { Logger } from '../logger';
import type { Pipeline } from '../pipeline';
import { GatewayError, sendJson } from './gateway-error';
import { httpPublish } from './http-message';
import type { RecentPublishes } from './idempotency';
import { readBody } from './read-body';
import { RequestSession, type StoreAnswer } from './request-session';
import type { GatewayRoute, RouteContext } from './route';
import { publishRefusal, txAnswer } from './store-answer';

export interface PublishDeps {
  pipeline: Pick<Pipeline, 'publish' | 'txAck'>;
  /** who published a duplicate id (a retry must be of the same group) */
  store: Pick<MessageStore, 'get'>;
  maxBodyBytes: number;
  nowMs: () => number;
  log: Logger;
  recent: RecentPublishes;
  /** publishes awaiting their store answer: shutdown waits for them like a connection's */
  awaiting: { count: number };
}

const MESSAGE_ID = /^[0-9a-fA-F]{32}$/;

function duplicateAnswer(ctx: RouteContext, messageId: string, publishedBy: string | undefined): void {
  if (publishedBy !== undefined && publishedBy !== ctx.caller.groupId)
    throw new GatewayError(409, 'conflict', "this Kiteq-Message-Id is the id of another group's message");
  sendJson(ctx.res, 201, { messageId, duplicate: true });
}

export function publishRoutes(deps: PublishDeps): GatewayRoute[] {
  const { pipeline, store, maxBodyBytes, nowMs, log, recent, awaiting } = deps;

  const run = async (session: RequestSession, publish: ReturnType<typeof httpPublish>): Promise<StoreAnswer> => {
    awaiting.count++;
    try {
      const raw = encodeMessage(publish.message);
      pipeline.publish(
        session,
        1,
        publish.message,
        Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length),
      );
      return await session.answer;
    } finally {
      awaiting.count--;
    }
  };

  const publish: GatewayRoute = {
    method: 'POST',
    pattern: /^\/v1\/topics\/([^/]+)\/messages$/,
    async handle(ctx) {
      const { req, res, caller, params, query } = ctx;
      const body = await readBody(req, maxBodyBytes);
      const request = httpPublish(req, params[0], query, caller.groupId, body, nowMs());
      const id = request.requestedId?.toLowerCase();
      if (id !== undefined) {
        // doc/http-gateway.md "Idempotency": a retry while the first is stored waits for its answer.
        // No await unless one is under way: from this check to track() below nothing may run between.
        for (let earlier = recent.inProgress(id); earlier; earlier = recent.inProgress(id))
          await earlier.catch(() => undefined);
        const publishedBy = recent.publishedBy(id);
        if (publishedBy !== undefined) return duplicateAnswer(ctx, id, publishedBy);
      }
      const session = new RequestSession(caller.groupId, caller.remote, nowMs());
      const answer = id !== undefined ? await recent.track(id, run(session, request)) : await run(session, request);
      if (answer.kind === 'failed') {
        log.error({ err: answer.error, stage: answer.stage, remote: caller.remote }, 'HTTP publish failed in a stage');
        throw new GatewayError(500, 'internal', 'the broker met an unexpected error; the message was not stored');
      }
      if (!answer.status) throw publishRefusal(answer.feedback);
      if (answer.feedback.startsWith('duplicate')) {
        // the store already holds this id (handler/persist.ts): the first copy stands
        const first = await store.get(answer.messageId).catch(() => undefined);
        return duplicateAnswer(ctx, answer.messageId, first?.header.groupId);
      }
      if (id !== undefined) recent.stored(answer.messageId, caller.groupId);
      sendJson(res, 201, { messageId: answer.messageId });
    },
  };

  const decision = (action: 'commit' | 'rollback'): GatewayRoute => ({
    method: 'POST',
    pattern: new RegExp(`^/v1/messages/([^/]+)/${action}$`),
    async handle({ res, caller, params }) {
      const id = params[0];
      if (!MESSAGE_ID.test(id)) throw new GatewayError(400, 'rejected', Reasons.invalidMessageId.text);
      const header: MessageHeader = {
        messageId: id,
        topic: '',
        messageType: '',
        expiredTime: -1,
        deliverLimit: 100,
        groupId: caller.groupId,
        commit: action === 'commit',
        fly: false,
        properties: [],
      };
      const session = new RequestSession(caller.groupId, caller.remote, nowMs());
      const status = action === 'commit' ? TxStatus.COMMIT : TxStatus.ROLLBACK;
      const outcome = await pipeline.txAck({ header, status, feedback: 'HTTP gateway' }, session, 1);
      const messageId = id.toLowerCase();
      if (outcome === 'unknownMessage') {
        // a retry of a decision whose answer was lost, after the message is gone (doc/http-gateway.md)
        const earlier = recent.decisionOf(messageId);
        if (earlier !== undefined && earlier.groupId === caller.groupId) {
          const state = action === 'commit' ? 'committed' : 'rolledBack';
          if (earlier.state !== state)
            throw new GatewayError(
              409,
              'conflict',
              `the message was ${earlier.state === 'committed' ? 'committed' : 'rolled back'} before`,
            );
          return sendJson(res, 200, { messageId, state });
        }
      }
      const answer = txAnswer(messageId, outcome);
      recent.decided(messageId, caller.groupId, answer.state);
      sendJson(res, 200, answer);
    },
  });

  return [publish, decision('commit'), decision('rollback')];
}
