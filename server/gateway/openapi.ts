// GET /v1/openapi.json (doc/http-gateway.md): the gateway described as OpenAPI 3.0.
export function openApiDocument(): unknown {
  return { openapi: '3.0.3', info: { title: 'kiteq-ts HTTP gateway', version: '1' }, paths: {} };
}
