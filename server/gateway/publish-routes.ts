// The gateway's publish and transaction routes (doc/http-gateway.md "Publish", "Transactions"):
// each request (and each message of a batch) goes through the native pipeline (server/pipeline.ts publish / txAck) as a
// one-request connection (request-session.ts), so topic rights, admission, check-message, persist
// and delivery are the same stages a TCP producer meets. 201 comes only with the store-ack.
import type { MessageHeader } from '../../protocol/messages/header';
import { TxStatus } from '../../protocol/messages/tx-ack';
import { Reasons } from '../../protocol/reasons';
import type { Pipeline } from '../pipeline';
import { batchPublishes } from './batch-message';
import { GatewayError, sendJson, sendJsonText } from './gateway-error';
import { type HttpPublish, httpPublish } from './http-message';
import { createPublishItem, type PublishItemDeps, type PublishOutcome } from './publish-item';
import { readBody } from './read-body';
import { RequestSession } from './request-session';
import type { GatewayRoute, RouteContext } from './route';
import { txAnswer } from './store-answer';

export interface PublishDeps extends PublishItemDeps {
  pipeline: Pick<Pipeline, 'publish' | 'txAck'>;
  maxBodyBytes: number;
}

const MESSAGE_ID = /^[0-9a-fA-F]{32}$/;

/** One message's line in a batch answer: the single publish's 201 body, or its refusal, with its status. */
function batchResult(outcome: PublishOutcome, requestedId: string | undefined): string {
  // a stored message's id is 32 hex characters (check-message): nothing in it to escape
  if (outcome.ok)
    return outcome.duplicate
      ? `{"status":201,"messageId":"${outcome.messageId}","duplicate":true}`
      : `{"status":201,"messageId":"${outcome.messageId}"}`;
  const { status, code, reason } = outcome.error;
  return JSON.stringify(
    requestedId === undefined
      ? { status, error: code, reason }
      : { status, error: code, reason, messageId: requestedId.toLowerCase() },
  );
}

/**
 * doc/http-gateway.md "Batch publish": 201 when every message is stored; when none is and all were
 * refused alike, that refusal's status (503 + Retry-After for the whole batch); otherwise 207.
 */
function sendBatchAnswer(
  res: RouteContext['res'],
  outcomes: readonly PublishOutcome[],
  requests: readonly HttpPublish[],
): void {
  const results = `[${outcomes.map((outcome, i) => batchResult(outcome, requests[i].requestedId)).join(',')}]`;
  const refusals = outcomes.filter((o): o is Extract<PublishOutcome, { ok: false }> => !o.ok).map((o) => o.error);
  if (refusals.length === 0) return sendJsonText(res, 201, `{"results":${results}}`);
  const first = refusals[0];
  if (refusals.length === outcomes.length && refusals.every((e) => e.status === first.status && e.code === first.code))
    return sendJsonText(
      res,
      first.status,
      `{"error":${JSON.stringify(first.code)},"reason":${JSON.stringify(first.reason)},"results":${results}}`,
      first.headers,
    );
  const retriable = refusals.find((e) => e.status === 503);
  sendJsonText(res, 207, `{"results":${results}}`, retriable?.headers);
}

export function publishRoutes(deps: PublishDeps): GatewayRoute[] {
  const { pipeline, maxBodyBytes, nowMs, recent } = deps;
  const publishItem = createPublishItem(deps);

  const publish: GatewayRoute = {
    method: 'POST',
    pattern: /^\/v1\/topics\/([^/]+)\/messages$/,
    async handle(ctx) {
      const { req, res, caller, params, query } = ctx;
      const body = await readBody(req, maxBodyBytes);
      const outcome = await publishItem(caller, httpPublish(req, params[0], query, caller.groupId, body, nowMs()));
      if (!outcome.ok) throw outcome.error;
      sendJson(
        res,
        201,
        outcome.duplicate ? { messageId: outcome.messageId, duplicate: true } : { messageId: outcome.messageId },
      );
    },
  };

  const batch: GatewayRoute = {
    method: 'POST',
    pattern: /^\/v1\/topics\/([^/]+)\/messages:batch$/,
    async handle({ req, res, caller, params, query }) {
      const body = await readBody(req, maxBodyBytes);
      const requests = batchPublishes(params[0], query, caller.groupId, body, nowMs());
      // every message enters the pipeline in this turn (publish-item.ts): one group commit for the lot
      const outcomes = await Promise.all(requests.map((request) => publishItem(caller, request)));
      sendBatchAnswer(res, outcomes, requests);
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

  return [publish, batch, decision('commit'), decision('rollback')];
}
