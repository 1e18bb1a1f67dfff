import { describe, expect, test } from '@jest/globals';
import Router from '@koa/router';
import request from 'supertest';
import { createApp } from './app.ts';
import { createLogger } from './logger.ts';

describe('createApp', () => {
  const router = new Router();
  router.get('/things', (ctx) => {
    ctx.body = [];
  });
  const app = createApp({ log: createLogger('test', 'silent'), routers: [router] });

  test('When a method no route has is used (TRACE), then it is a 405 problem, not a 500', async () => {
    const res = await request(app.callback()).trace('/things');
    expect(res.status).toBe(405);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 405, type: 'urn:shop-on-dapr:problem:http-405' });
  });

  test('When a known method is not allowed on the path, then it is a 405 problem too', async () => {
    const res = await request(app.callback()).delete('/things');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toContain('GET');
  });
});
