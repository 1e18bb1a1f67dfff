import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { problemTypeUri } from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import request from 'supertest';
import { userService } from '../src/service.ts';

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;

beforeAll(async () => {
  svc = await startServiceUnderTest('user', userService);
  http = request(svc.app.callback());
});

afterAll(() => svc.close());

describe('POST /users', () => {
  test('When a user registers, then it is stored and UserRegistered is in the outbox', async () => {
    const res = await http.post('/users').send({ email: 'Kim@Example.com', name: 'Kim' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: 'kim@example.com', name: 'Kim' });
    expect(res.headers.location).toBe(`/users/${res.body.id}`);

    const rows = await svc.orm.em
      .fork()
      .execute<{ event_type: string; subject: string; event: { data: unknown } }[]>(
        'select event_type, subject, event from outbox where subject = ?',
        [res.body.id],
      );
    expect(rows).toEqual([
      expect.objectContaining({
        event_type: 'UserRegistered',
        subject: res.body.id,
        event: expect.objectContaining({ data: { userId: res.body.id } }),
      }),
    ]);
    expect(svc.outboxNudges()).toBeGreaterThan(0);

    const read = await http.get(`/users/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  test('When the email is taken, then it is a 409 problem and nothing more is written', async () => {
    await http.post('/users').send({ email: 'lee@example.com', name: 'Lee' }).expect(201);
    const res = await http.post('/users').send({ email: 'LEE@example.com', name: 'Other Lee' });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: problemTypeUri('email-taken'), status: 409 });
  });

  test('When one email registers many times at once, then one succeeds and the others get 409', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => http.post('/users').send({ email: 'race@example.com', name: 'Race' })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });

  test('When fields are invalid, then it is a 422 naming each of them', async () => {
    const res = await http.post('/users').send({ email: 'not-an-email', name: '' });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'body.email',
      'body.name',
    ]);
  });

  test('When the body is not JSON, then it is a 400 problem', async () => {
    const res = await http.post('/users').set('content-type', 'application/json').send('{"email": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: problemTypeUri('malformed-body') });
  });
});

describe('GET /users/:id', () => {
  test('When the user does not exist, then it is a 404 problem', async () => {
    const res = await http.get('/users/0190a000-0000-7000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ type: problemTypeUri('user-not-found') });
  });

  test('When the id is not a UUID, then it is a 422, not a 500', async () => {
    const res = await http.get('/users/42');
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('path.id');
  });

  test('When a route does not exist, then it is a 404 problem', async () => {
    const res = await http.delete('/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});

describe('health', () => {
  test('When the sidecar is down, then /healthz is 200 and /readyz is 503 naming it', async () => {
    expect((await http.get('/healthz')).status).toBe(200);
    const ready = await http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toMatchObject({
      database: 'ok',
      sidecar: expect.stringMatching(/^unavailable/),
    });
  });
});

describe('POST /auth/sign-up (the public sign-up)', () => {
  const signUp = (body: Record<string, unknown>) => http.post('/auth/sign-up').send(body);

  test('When a stranger signs up with an email that has an account, then the answer is the one a new email gets, and the account is untouched', async () => {
    const fresh = await signUp({ email: 'first@example.com', name: 'First', password: 'first password' });
    const again = await signUp({
      email: 'FIRST@example.com',
      name: 'Stranger',
      password: 'stranger password',
    });
    expect(fresh.status).toBe(202);
    expect({ status: again.status, body: again.body }).toEqual({ status: fresh.status, body: fresh.body });
    const users = await svc.orm.em
      .fork()
      .execute<{ name: string }[]>("select name from users where email = 'first@example.com'");
    expect(users).toEqual([{ name: 'First' }]);
    expect(
      (await http.post('/auth/login').send({ email: 'first@example.com', password: 'first password' }))
        .status,
    ).toBe(200);
    expect(
      (await http.post('/auth/login').send({ email: 'first@example.com', password: 'stranger password' }))
        .status,
    ).toBe(401);
  });

  test('When the password is missing or too short, then it is a 422 naming it and nobody is registered', async () => {
    for (const password of [undefined, 'short']) {
      const res = await signUp({ email: 'nopass@example.com', name: 'No password', password });
      expect({ status: res.status, field: res.body.errors?.[0]?.field }).toEqual({
        status: 422,
        field: 'body.password',
      });
    }
    const users = await svc.orm.em.fork().execute("select 1 from users where email = 'nopass@example.com'");
    expect(users).toEqual([]);
  });
});
