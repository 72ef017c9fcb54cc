// One message of a gateway publish, single or batched (doc/http-gateway.md "Publish", "Batch
// publish"): the idempotency check of its Kiteq-Message-Id, then the native pipeline's publish entry
// (server/pipeline.ts) as a one-message connection (request-session.ts), then the store's answer as
// an HTTP outcome. A message that waits for nothing reaches pipeline.publish synchronously, so the
// messages of a batch enter the pipeline in one turn and share the store's group commit.
import { encodeMessage } from '../../protocol/messages/message';
import type { MessageStore } from '../../store/contract';
import type { Logger } from '../logger';
import type { Pipeline } from '../pipeline';
import type { GatewayCaller } from './route';
import { GatewayError } from './gateway-error';
import type { HttpPublish } from './http-message';
import type { RecentPublishes } from './idempotency';
import { RequestSession, type StoreAnswer } from './request-session';
import { publishRefusal } from './store-answer';

export interface PublishItemDeps {
  pipeline: Pick<Pipeline, 'publish'>;
  /** who published a duplicate id (a retry must be of the same group) */
  store: Pick<MessageStore, 'get'>;
  nowMs: () => number;
  log: Logger;
  recent: RecentPublishes;
  /** publishes awaiting their store answer: shutdown waits for them like a connection's */
  awaiting: { count: number };
}

/** Stored (201; `duplicate` for a retried id), or refused with the single publish's answer. */
export type PublishOutcome = { ok: true; messageId: string; duplicate: boolean } | { ok: false; error: GatewayError };

function duplicateOutcome(caller: GatewayCaller, messageId: string, publishedBy: string | undefined): PublishOutcome {
  if (publishedBy !== undefined && publishedBy !== caller.groupId)
    return {
      ok: false,
      error: new GatewayError(409, 'conflict', "this Kiteq-Message-Id is the id of another group's message"),
    };
  return { ok: true, messageId, duplicate: true };
}

export function createPublishItem(deps: PublishItemDeps) {
  const { pipeline, store, nowMs, log, recent, awaiting } = deps;

  const run = async (session: RequestSession, publish: HttpPublish): Promise<StoreAnswer> => {
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

  return async function publishItem(caller: GatewayCaller, request: HttpPublish): Promise<PublishOutcome> {
    const id = request.requestedId?.toLowerCase();
    if (id !== undefined) {
      // doc/http-gateway.md "Idempotency": a retry while the first is stored waits for its answer.
      // No await unless one is under way: from this check to track() below nothing may run between.
      for (let earlier = recent.inProgress(id); earlier; earlier = recent.inProgress(id))
        await earlier.catch(() => undefined);
      const publishedBy = recent.publishedBy(id);
      if (publishedBy !== undefined) return duplicateOutcome(caller, id, publishedBy);
    }
    const session = new RequestSession(caller.groupId, caller.remote, nowMs());
    const answer = id !== undefined ? await recent.track(id, run(session, request)) : await run(session, request);
    if (answer.kind === 'failed') {
      log.error({ err: answer.error, stage: answer.stage, remote: caller.remote }, 'HTTP publish failed in a stage');
      return {
        ok: false,
        error: new GatewayError(500, 'internal', 'the broker met an unexpected error; the message was not stored'),
      };
    }
    if (!answer.status) return { ok: false, error: publishRefusal(answer.feedback) };
    if (answer.feedback.startsWith('duplicate')) {
      // the store already holds this id (handler/persist.ts): the first copy stands
      const first = await store.get(answer.messageId).catch(() => undefined);
      return duplicateOutcome(caller, answer.messageId, first?.header.groupId);
    }
    if (id !== undefined) recent.stored(answer.messageId, caller.groupId);
    return { ok: true, messageId: answer.messageId, duplicate: false };
  };
}
