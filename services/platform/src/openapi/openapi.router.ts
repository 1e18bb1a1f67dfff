import Router from '@koa/router';
import type { OpenApiDocument } from './openapi-document.ts';

/** `GET /openapi.json`: the contract, a document or a function that builds it when asked. */
export function openApiRouter(document: OpenApiDocument | (() => Promise<OpenApiDocument>)): Router {
  const router = new Router();
  router.get('/openapi.json', async (ctx) => {
    ctx.body = typeof document === 'function' ? await document() : document;
  });
  return router;
}
