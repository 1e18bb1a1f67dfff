import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { JWKS_PATH, problemTypeUri, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { demoUsers, seedUsers } from '../src/db/seed.ts';
import { userService } from '../src/service.ts';

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;

beforeAll(async () => {
  svc = await startServiceUnderTest('user_auth', userService);
  http = request(svc.app.callback());
});

afterAll(() => svc.close());

/** Verifies a token as the gateway does: against the JWKS the service serves. */
async function verify(token: string) {
  const jwks = (await http.get(JWKS_PATH).expect(200)).body;
  return (await jwtVerify(token, createLocalJWKSet(jwks), { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE }))
    .payload;
}

const register = async (email: string, password?: string) =>
  (await http.post('/users').send({ email, name: 'Someone', password }).expect(201)).body;

describe('POST /auth/login', () => {
  test('When a user signs in with the password they registered, then the access token verifies against the JWKS', async () => {
    const user = await register('sign-in@example.com', 'correct horse battery');
    expect(user).not.toHaveProperty('passwordHash');
    expect(user.role).toBe('customer');

    const res = await http
      .post('/auth/login')
      .send({ email: 'SIGN-IN@example.com', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      userId: user.id,
      role: 'customer',
    });
    const claims = await verify(res.body.accessToken);
    expect(claims).toMatchObject({ sub: user.id, role: 'customer' });
    expect(claims.exp! - claims.iat!).toBe(900);

    const [row] = await svc.orm.em
      .fork()
      .execute<{ password_hash: string }[]>('select password_hash from users where id = ?', [user.id]);
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test('When the password is wrong or the email unknown, then both are the same 401 problem', async () => {
    await register('wrong@example.com', 'the right one');
    const wrong = await http
      .post('/auth/login')
      .send({ email: 'wrong@example.com', password: 'not the right one' });
    const unknown = await http
      .post('/auth/login')
      .send({ email: 'nobody@example.com', password: 'the right one' });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ type: problemTypeUri('invalid-credentials'), status: 401 });
    }
    expect(wrong.body.title).toBe(unknown.body.title);
  });

  test('When wrong passwords keep coming for one email, then past five each try must wait longer, even with the right password, and the right one then clears it', async () => {
    await register('guessed@example.com', 'the real password');
    const login = (email: string, password: string) => http.post('/auth/login').send({ email, password });
    for (let i = 0; i < 5; i++) expect((await login('guessed@example.com', `guess ${i}`)).status).toBe(401);
    // From the sixth try on, every one waits: the right password too.
    const braked = await login('guessed@example.com', 'the real password');
    expect(braked.status).toBe(429);
    expect(braked.body.type).toBe(problemTypeUri('sign-in-delayed'));
    expect(Number(braked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // An unknown email is braked the same way: the brake does not tell which emails exist.
    for (let i = 0; i < 5; i++)
      expect((await login('nobody-here@example.com', `guess ${i}`)).status).toBe(401);
    expect((await login('nobody-here@example.com', 'guess 5')).body.type).toBe(
      problemTypeUri('sign-in-delayed'),
    );
    // Once the wait is over (as if the last failure were a minute ago), the right password signs in and clears the count.
    await svc.orm.em
      .fork()
      .execute("update sign_in_failures set last_failed_at = now() - interval '1 minute' where email = ?", [
        'guessed@example.com',
      ]);
    expect((await login('guessed@example.com', 'the real password')).status).toBe(200);
    expect((await login('guessed@example.com', 'one slip')).status).toBe(401);
    expect((await login('guessed@example.com', 'the real password')).status).toBe(200);
  });

  test('When a user registered without a password, then they cannot sign in', async () => {
    await register('no-password@example.com');
    const res = await http
      .post('/auth/login')
      .send({ email: 'no-password@example.com', password: 'anything-at-all' });
    expect(res.status).toBe(401);
  });

  test('When the password is too short at registration or the login body is incomplete, then it is a 422', async () => {
    const short = await http
      .post('/users')
      .send({ email: 'short@example.com', name: 'Short', password: 'abc' });
    expect(short.status).toBe(422);
    expect(short.body.errors[0].field).toBe('body.password');
    const incomplete = await http.post('/auth/login').send({ email: 'short@example.com' });
    expect(incomplete.status).toBe(422);
  });
});

describe('refresh tokens', () => {
  const signIn = async (email: string, password: string) =>
    (await http.post('/auth/login').send({ email, password }).expect(200)).body;

  test('When a refresh token is used, then a new pair comes and the old token no longer works', async () => {
    const user = await register('refresh@example.com', 'refresh-password');
    const first = await signIn('refresh@example.com', 'refresh-password');
    const next = await http.post('/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).not.toBe(first.refreshToken);
    expect(await verify(next.body.accessToken)).toMatchObject({ sub: user.id });

    const again = await http.post('/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ type: problemTypeUri('invalid-refresh-token') });
    // A reused token means it was copied: the one issued from it is revoked too.
    expect((await http.post('/auth/refresh').send({ refreshToken: next.body.refreshToken })).status).toBe(
      401,
    );
  });

  test('When a user signs out, then the refresh token is refused', async () => {
    await register('logout@example.com', 'logout-password');
    const pair = await signIn('logout@example.com', 'logout-password');
    expect((await http.post('/auth/logout').send({ refreshToken: pair.refreshToken })).status).toBe(204);
    expect((await http.post('/auth/refresh').send({ refreshToken: pair.refreshToken })).status).toBe(401);
  });

  test('When the refresh token is forged or malformed, then it is a 401, not a 500', async () => {
    await register('forged@example.com', 'forged-password');
    const pair = await signIn('forged@example.com', 'forged-password');
    const [id] = pair.refreshToken.split('.');
    for (const refreshToken of [`${id}.forged-secret`, 'not-a-token', 'a.b.c', `${id}.`]) {
      expect((await http.post('/auth/refresh').send({ refreshToken })).status).toBe(401);
    }
  });
});

describe('demo users', () => {
  test('When the demo data is loaded twice, then each demo user signs in with the README password and role', async () => {
    await seedUsers(svc.orm.em.fork());
    const hashes = await svc.orm.em.fork().execute('select id, password_hash from users order by id');
    await seedUsers(svc.orm.em.fork());
    expect(await svc.orm.em.fork().execute('select id, password_hash from users order by id')).toEqual(
      hashes,
    );

    for (const u of demoUsers) {
      const res = await http.post('/auth/login').send({ email: u.email, password: u.password });
      expect(res.status).toBe(200);
      expect(await verify(res.body.accessToken)).toMatchObject({ sub: u.id, role: u.role });
    }
    expect(demoUsers.map((u) => u.role)).toEqual(expect.arrayContaining(['customer', 'admin', 'ops']));
  });
});
