import { describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { z } from 'zod';
import { createApp } from '../app.ts';
import { createLogger } from '../logger.ts';
import { Routes } from './routes.ts';

describe('Routes', () => {
  let handled = 0;
  const routes = new Routes().add(
    {
      method: 'post',
      path: '/things/:id',
      summary: 'A thing',
      params: z.object({ id: z.uuid() }),
      query: z.object({ dry: z.stringbool().default(false) }),
      body: z.object({ name: z.string().min(1) }),
      responses: { 200: { description: 'The thing' } },
    },
    (ctx, { params, query, body }) => {
      handled += 1;
      ctx.body = { id: params.id, dry: query.dry, name: body.name };
    },
  );
  const app = createApp({ log: createLogger('routes-test', 'silent'), routers: [routes.router] });

  test('When a route is added, then it is served and its contract is listed, once', () => {
    expect(routes.operations.map((o) => `${o.method} ${o.path}`)).toEqual(['post /things/:id']);
  });

  test('When a request comes, then its handler gets the path, query and body as the contract parses them', async () => {
    const id = '0190c0de-0000-7000-8000-000000000001';
    const res = await request(app.callback()).post(`/things/${id}?dry=true`).send({ name: 'x' });
    expect(res.body).toEqual({ id, dry: true, name: 'x' });
  });

  test('When the input breaks the contract, then it is a 422 naming the field, and the handler never runs', async () => {
    const before = handled;
    const res = await request(app.callback()).post('/things/nope').send({});
    expect(res.status).toBe(422);
    expect(handled).toBe(before);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['path.id']);
  });
});
