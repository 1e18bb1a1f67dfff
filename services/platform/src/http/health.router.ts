import Router from '@koa/router';
import type { ApiOperation } from '../openapi/api-operation.ts';

/** Resolves (anything but `false`) when the dependency answers; rejects or resolves `false` when not. */
export type ReadinessCheck = () => Promise<unknown>;

const withTimeout = async (check: ReadinessCheck, ms: number): Promise<string> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
      }),
    ]);
    return result === false ? 'unavailable' : 'ok';
  } catch (err) {
    return `unavailable: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
};

/**
 * `/healthz`: the process is alive (liveness; also Dapr's app health check).
 * `/readyz`: every dependency answers (the database, the sidecar...); 503 with
 * the failing ones named otherwise.
 */
export const healthOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    responses: { 200: { description: '`{status: "ok"}`' } },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: every dependency answers',
    responses: {
      200: { description: '`{status: "ready", checks}`' },
      503: { description: '`{status: "not-ready", checks}`, naming the failing ones' },
    },
  },
];

export function healthRouter(checks: Record<string, ReadinessCheck>, timeoutMs = 2_000): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => withTimeout(checks[name]!, timeoutMs)));
    const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const ready = results.every((r) => r === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not-ready', checks: report };
  });
  return router;
}
