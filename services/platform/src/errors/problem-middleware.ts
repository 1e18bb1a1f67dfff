import type { Context, Next } from 'koa';
import { ZodError } from 'zod';
import { issuesFromZod } from '../http/validate.ts';
import { AppError, problemTypeUri, ValidationError } from './app-error.ts';
import { isDependencyUnavailable } from './dependency-unavailable.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** Koa's own http-errors (body parser, ctx.throw) carry `status` and `expose`. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  type?: string;
}

const statusTitles: Record<number, string> = {
  400: 'Bad request',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Request body too large',
  415: 'Unsupported media type',
};

export function toProblem(err: unknown, instance: string): Problem {
  if (err instanceof ZodError) return toProblem(new ValidationError(issuesFromZod(err)), instance);
  if (err instanceof AppError) {
    return {
      ...err.extensions,
      type: err.type,
      title: err.title,
      status: err.status,
      ...(err.detail ? { detail: err.detail } : {}),
      instance,
    };
  }
  const http = (err ?? {}) as HttpLikeError;
  const status = http.status ?? http.statusCode;
  if (status && status >= 400 && status < 500) {
    const malformedJson = http.type === 'entity.parse.failed' || /JSON/i.test(http.message ?? '');
    return {
      type: problemTypeUri(malformedJson ? 'malformed-body' : `http-${status}`),
      title: malformedJson ? 'The request body is not valid JSON' : (statusTitles[status] ?? 'Client error'),
      status,
      ...(http.expose && http.message ? { detail: http.message } : {}),
      instance,
    };
  }
  if (isDependencyUnavailable(err))
    return {
      type: problemTypeUri('dependency-unavailable'),
      title: 'A dependency of the service is unavailable for now; try again',
      status: 503,
      instance,
    };
  return { type: problemTypeUri('internal'), title: 'Internal server error', status: 500, instance };
}

/** Seconds a client is asked to wait before it retries a 503. */
const RETRY_AFTER_S = '2';

/**
 * First middleware of every app: turns any error into problem+json, answers
 * a bodiless 4xx (no route: 404, wrong method: 405) as a problem too, and hands 5xx to `app.emit('error')`
 * so that they are logged once, centrally.
 */
export async function problemMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status >= 400 && ctx.body == null) {
      // @koa/router answers a method that no route has (TRACE, say) with a bodiless 501; for
      // the client it is a method this resource does not allow (with Allow), not a server fault.
      if (ctx.status === 501) ctx.status = 405;
      ctx.throw(ctx.status, ctx.status === 404 ? `No route for ${ctx.method} ${ctx.path}.` : ctx.message);
    }
  } catch (err) {
    const problem = toProblem(err, ctx.path);
    ctx.status = problem.status;
    if (problem.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', RETRY_AFTER_S);
    ctx.type = PROBLEM_CONTENT_TYPE;
    ctx.body = problem;
    if (problem.status >= 500) ctx.app.emit('error', err, ctx);
  }
}
