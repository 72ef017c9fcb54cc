// GET /v1/openapi.json (doc/http-gateway.md): every gateway route, consume and webhook included, as
// OpenAPI 3.0. Built once; the routes' behaviour is doc/http-gateway.md's.

const error = { $ref: '#/components/responses/Error' };
const retry = { $ref: '#/components/responses/Retry' };
const unauthorized = { $ref: '#/components/responses/Unauthorized' };
const tooMany = { $ref: '#/components/responses/TooManyFailures' };
/** what a publish, single or batch, is refused with (doc/http-gateway.md "Publish") */
const publishRefusals = {
  400: error,
  401: unauthorized,
  403: error,
  404: error,
  409: error,
  413: error,
  429: tooMany,
  503: retry,
};

const messageIdParam = {
  name: 'messageId',
  in: 'path',
  required: true,
  description: 'the 32-hex-character message id',
  schema: { type: 'string', pattern: '^[0-9a-fA-F]{32}$' },
};
const groupParam = {
  name: 'group',
  in: 'path',
  required: true,
  description: 'the consuming group: must be the group of the credentials',
  schema: { type: 'string' },
};

function decision(action: 'commit' | 'rollback'): unknown {
  return {
    post: {
      operationId: `${action}Message`,
      summary:
        action === 'commit'
          ? 'Commit a prepared message: it becomes deliverable at once (or at its Kiteq-Deliver-At)'
          : 'Roll back a prepared message: it is deleted and never delivered',
      description: 'Only the publishing group may decide its message (the native TX_ACK rule).',
      parameters: [messageIdParam],
      responses: {
        200: {
          description: 'decided (deciding the same way twice answers the same)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/TxDecision' } } },
        },
        400: error,
        401: unauthorized,
        403: error,
        404: error,
        409: error,
        429: tooMany,
        503: retry,
      },
    },
  };
}

const DOCUMENT = {
  openapi: '3.0.3',
  info: {
    title: 'kiteq-ts HTTP gateway',
    version: '1',
    description:
      'Publish and consume KiteQ messages over HTTP with the guarantees of the native protocol (doc/http-gateway.md).',
  },
  security: [{ basic: [] }],
  paths: {
    '/v1/topics/{topic}/messages': {
      post: {
        operationId: 'publish',
        summary: 'Publish a message; answered once it is durably stored',
        description:
          'text/* and application/json bodies are sent as StringMessage (UTF-8), anything else as BytesMessage. ' +
          'A retry with the same Kiteq-Message-Id answers the first message id without a second copy.',
        parameters: [
          { name: 'topic', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'type', in: 'query', required: true, description: 'the message type', schema: { type: 'string' } },
          {
            name: 'prepare',
            in: 'query',
            description: '1: store a prepared (transactional) message, decided by /commit or /rollback',
            schema: { type: 'string', enum: ['0', '1', 'true', 'false'] },
          },
          {
            name: 'Kiteq-Message-Id',
            in: 'header',
            description: '32 hex characters chosen by the caller: makes the publish idempotent',
            schema: { type: 'string', pattern: '^[0-9a-fA-F]{32}$' },
          },
          {
            name: 'Kiteq-Deliver-At',
            in: 'header',
            description: 'deliver no sooner than this: epoch milliseconds, or an ISO 8601 date',
            schema: { type: 'string' },
          },
          {
            name: 'Kiteq-Expired-Time',
            in: 'header',
            description: 'unix seconds after which the message is not delivered (default: 7 days after delivery time)',
            schema: { type: 'integer' },
          },
          {
            name: 'Kiteq-Property-{name}',
            in: 'header',
            description: 'a message property {name} (any number of them); UTF-8 values',
            schema: { type: 'string' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: {} },
            'text/plain': { schema: { type: 'string' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        responses: {
          201: {
            description: 'stored (durably, as the store promises); duplicate: true for a retried Kiteq-Message-Id',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Published' } } },
          },
          ...publishRefusals,
        },
      },
    },
    '/v1/topics/{topic}/messages:batch': {
      post: {
        operationId: 'publishBatch',
        summary: 'Publish up to 1,000 messages in one request; answered once every one is durably stored or refused',
        description:
          'The body is a JSON array of messages. Each goes through the same path as a single publish (same rights, ' +
          'checks, idempotency by messageId). 201: all stored. 207: some refused, each result carries its status. ' +
          'Any other status: none stored (a malformed body is refused before any message is published).',
        parameters: [
          { name: 'topic', in: 'path', required: true, schema: { type: 'string' } },
          {
            name: 'type',
            in: 'query',
            required: true,
            description: 'the message type of every message',
            schema: { type: 'string' },
          },
          {
            name: 'prepare',
            in: 'query',
            description: '1: every message is stored prepared (transactional), decided one by one',
            schema: { type: 'string', enum: ['0', '1', 'true', 'false'] },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'array', minItems: 1, maxItems: 1000, items: { $ref: '#/components/schemas/BatchItem' } },
            },
          },
        },
        responses: {
          201: {
            description: 'every message stored (duplicate: true for a retried messageId)',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/BatchAnswer' } } },
          },
          207: {
            description:
              'some messages stored, some refused: each result has the status a single publish would have had',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/BatchAnswer' } } },
          },
          ...publishRefusals,
        },
      },
    },
    '/v1/messages/{messageId}/commit': decision('commit'),
    '/v1/messages/{messageId}/rollback': decision('rollback'),
    '/v1/groups/{group}/messages': {
      get: {
        operationId: 'pull',
        summary: 'Long-poll for messages of a topic and type; each returned message is leased to the caller',
        description:
          'The first poll binds the group (a persistent direct binding, kept while the group polls at least every ' +
          "--gateway-idle seconds). Messages wait for a poll at no attempt's cost (up to 1,000 queued; past it they " +
          'park for the group). A lease lasts the delivery timeout from the answer; an unsettled lease counts as a ' +
          'failed delivery.',
        parameters: [
          groupParam,
          { name: 'topic', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'type', in: 'query', required: true, description: 'the message type', schema: { type: 'string' } },
          {
            name: 'max',
            in: 'query',
            description: 'most messages returned (default 10)',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
          },
          {
            name: 'wait',
            in: 'query',
            description: 'seconds to wait for a first message (default 0; more than 30 counts as 30)',
            schema: { type: 'number', minimum: 0, maximum: 30, default: 0 },
          },
        ],
        responses: {
          200: {
            description: 'up to max messages (an empty list when none came within wait)',
            content: {
              'application/json': {
                schema: { type: 'array', items: { $ref: '#/components/schemas/Message' } },
              },
            },
          },
          400: error,
          401: unauthorized,
          403: error,
          404: error,
          429: tooMany,
          503: retry,
        },
      },
    },
    '/v1/groups/{group}/acks': {
      post: {
        operationId: 'settle',
        summary: 'Settle leased messages: ack (consumed) or nack (a failed delivery, retried on schedule)',
        parameters: [groupParam],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  ack: { type: 'array', items: { type: 'string' } },
                  nack: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        },
        responses: {
          200: {
            description: 'what each id came to; an id not leased to this group changes nothing',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    results: {
                      type: 'object',
                      additionalProperties: { type: 'string', enum: ['acked', 'nacked', 'not leased'] },
                    },
                  },
                },
              },
            },
          },
          400: error,
          401: unauthorized,
          403: error,
          429: tooMany,
        },
      },
    },
    '/v1/openapi.json': {
      get: {
        operationId: 'openApi',
        summary: 'This document',
        security: [],
        responses: { 200: { description: 'OpenAPI 3.0', content: { 'application/json': { schema: {} } } } },
      },
    },
  },
  webhooks: {
    delivery: {
      post: {
        summary:
          'Webhook push: a group with `webhook: {url, concurrency, timeoutMs}` in the groups file is delivered to by POST',
        description:
          'The body as in a pull answer, with Kiteq-Message-Id, Kiteq-Topic, Kiteq-Message-Type, Kiteq-Attempt ' +
          'headers. At most `concurrency` POSTs in flight (default 4), each within `timeoutMs` (default 5000). A 2xx ' +
          'answer acks the message; any other answer or a timeout is a failed delivery (usual retry schedule).',
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Message' } } } },
        responses: { '2XX': { description: 'consumed' }, default: { description: 'a failed delivery' } },
      },
    },
  },
  components: {
    securitySchemes: {
      basic: { type: 'http', scheme: 'basic', description: 'groupId:secretKey of the groups file (as CONN_META)' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'reason'],
        properties: {
          error: { type: 'string', description: 'a short code: bad_request, rejected, unauthorized, forbidden, …' },
          reason: {
            type: 'string',
            description: "a sentence; for a refused publish the native MessageStoreAck's text",
          },
        },
      },
      Published: {
        type: 'object',
        required: ['messageId'],
        properties: { messageId: { type: 'string' }, duplicate: { type: 'boolean' } },
      },
      BatchItem: {
        type: 'object',
        description: 'body (text: StringMessage) or bodyBase64 (bytes: BytesMessage), not both',
        properties: {
          body: { type: 'string' },
          bodyBase64: { type: 'string', format: 'byte' },
          messageId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: 'makes the message idempotent' },
          deliverAt: {
            oneOf: [{ type: 'integer' }, { type: 'string' }],
            description: 'epoch milliseconds, or an ISO 8601 date',
          },
          expiredTime: { type: 'integer', description: 'unix seconds' },
          properties: { type: 'object', additionalProperties: { type: 'string' } },
        },
        additionalProperties: false,
      },
      BatchAnswer: {
        type: 'object',
        required: ['results'],
        properties: {
          error: { type: 'string', description: 'when no message was stored: the refusal they all met' },
          reason: { type: 'string' },
          results: {
            type: 'array',
            description: 'one per message, in the order sent',
            items: {
              type: 'object',
              required: ['status'],
              properties: {
                status: { type: 'integer', description: "201 stored, else the single publish's refusal status" },
                messageId: { type: 'string' },
                duplicate: { type: 'boolean' },
                error: { type: 'string' },
                reason: { type: 'string' },
              },
            },
          },
        },
      },
      TxDecision: {
        type: 'object',
        properties: { messageId: { type: 'string' }, state: { type: 'string', enum: ['committed', 'rolledBack'] } },
      },
      Message: {
        type: 'object',
        properties: {
          messageId: { type: 'string' },
          topic: { type: 'string' },
          messageType: { type: 'string' },
          groupId: { type: 'string', description: 'the publishing group' },
          properties: { type: 'object', additionalProperties: { type: 'string' } },
          attempt: { type: 'integer', description: "this delivery's attempt, 1 for the first" },
          createTime: { type: 'integer', description: 'unix seconds' },
          expiredTime: { type: 'integer', description: 'unix seconds' },
          snappy: { type: 'boolean', description: 'the body is snappy-compressed as sent (then in bodyBase64)' },
          body: { type: 'string', description: 'a StringMessage body' },
          bodyBase64: { type: 'string', format: 'byte', description: 'a BytesMessage body' },
        },
      },
    },
    responses: {
      Error: {
        description: "the caller's fault: sending the same again will not help",
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      Unauthorized: {
        description: 'no credentials, or an unknown group or wrong key (one text for both)',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      TooManyFailures: {
        description: 'too many refused keys for this group from this address: retry after Retry-After seconds',
        headers: { 'Retry-After': { schema: { type: 'integer' } } },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      Retry: {
        description: 'overflow, store trouble or shutting down: send it again after Retry-After seconds',
        headers: { 'Retry-After': { schema: { type: 'integer' } } },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  },
};

export function openApiDocument(): unknown {
  return DOCUMENT;
}
