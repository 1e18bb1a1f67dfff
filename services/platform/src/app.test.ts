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

  test('When the database is out of reach, then it is a 503 problem with Retry-After, not a 500', async () => {
    const down = new Router();
    down.get('/down', () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    const res = await request(
      createApp({ log: createLogger('test', 'silent'), routers: [down] }).callback(),
    ).get('/down');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.body).toMatchObject({ status: 503, type: 'urn:shop-on-dapr:problem:dependency-unavailable' });
  });

  test('When a known method is not allowed on the path, then it is a 405 problem too', async () => {
    const res = await request(app.callback()).delete('/things');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toContain('GET');
  });
});

describe('createApp with the app API token', () => {
  const router = new Router();
  router.post('/saga/points/refund', (ctx) => {
    ctx.body = { refunded: true };
  });
  const app = createApp({
    log: createLogger('test', 'silent'),
    routers: [router],
    appApiToken: 'from-sidecar',
  });

  test('When a call reaches the port without the token, then it is refused with 401 problem+json', async () => {
    const res = await request(app.callback()).post('/saga/points/refund').send({});
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 401, type: 'urn:shop-on-dapr:problem:not-from-sidecar' });
  });

  test('When the token is wrong, then it is refused; when it is the sidecar’s, then it is answered', async () => {
    const wrong = await request(app.callback())
      .post('/saga/points/refund')
      .set('dapr-api-token', 'from-sidecaR');
    expect(wrong.status).toBe(401);
    const right = await request(app.callback())
      .post('/saga/points/refund')
      .set('dapr-api-token', 'from-sidecar');
    expect(right).toMatchObject({ status: 200, body: { refunded: true } });
  });

  test('When a probe asks /healthz without the token, then it is answered', async () => {
    expect((await request(app.callback()).get('/healthz')).status).toBe(200);
  });
});
