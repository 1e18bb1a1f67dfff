import type { ZodObject, ZodType } from 'zod';

/**
 * One route as its contract: the same zod schemas the route validates with,
 * and what it answers. `openApiDocument` turns a list of them into the
 * service's OpenAPI 3.1 document.
 */
export interface ApiOperation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Koa router syntax, as the route is registered: `/users/:id`. */
  path: string;
  summary: string;
  params?: ZodObject;
  query?: ZodObject;
  body?: ZodType;
  /** The `Idempotency-Key` header. */
  idempotencyKey?: 'required' | 'optional';
  /** Success answers by status; `eventStream` for server-sent events. */
  responses: Record<number, { description: string; eventStream?: boolean }>;
  /**
   * The 4xx problems it may answer besides those the document adds by itself
   * (400 for a body that is not JSON, 422 for invalid input, 404 for an unknown
   * id in the path).
   */
  problems?: number[];
}
