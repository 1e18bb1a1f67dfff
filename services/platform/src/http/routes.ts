import Router from '@koa/router';
import type { Context } from 'koa';
import type { ZodObject, ZodType, z } from 'zod';
import type { ApiOperation } from '../openapi/api-operation.ts';
import { parseBody, parseParams, parseQuery } from './validate.ts';

type Parsed<S> = S extends ZodType ? z.infer<S> : undefined;

/** What a route's handler is given: its path parameters, query and body, validated by the operation's schemas. */
export interface RouteInput<P, Q, B> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

/**
 * A service's routes, each declared once: its contract (an ApiOperation, whose
 * zod schemas the OpenAPI document is made of) and its handler together, so a
 * route cannot be served without its contract or documented without being
 * served, and its input is validated by the very schemas the document shows.
 */
export class Routes {
  readonly router = new Router();
  readonly operations: ApiOperation[] = [];

  add<
    P extends ZodObject | undefined = undefined,
    Q extends ZodObject | undefined = undefined,
    B extends ZodType | undefined = undefined,
  >(
    operation: ApiOperation & { params?: P; query?: Q; body?: B },
    handle: (ctx: Context, input: RouteInput<P, Q, B>) => Promise<void> | void,
  ): this {
    this.operations.push(operation);
    this.router[operation.method](operation.path, async (ctx) => {
      const input = {
        params: operation.params ? parseParams(ctx, operation.params) : undefined,
        query: operation.query ? parseQuery(ctx, operation.query) : undefined,
        body: operation.body ? parseBody(ctx, operation.body) : undefined,
      } as RouteInput<P, Q, B>;
      await handle(ctx, input);
    });
    return this;
  }
}
