/**
 * The storefront's files as the gateway serves them: the page at `/` with its
 * security headers, hashed assets cached for long, nothing outside the folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { assembleStatelessApp, createLogger, DaprSidecar } from '@shop/platform';
import request from 'supertest';
import { storefrontRouter } from '../src/storefront/storefront.router.ts';

let dir: string;
let http: ReturnType<typeof request>;

beforeAll(() => {
  // A build as Vite leaves it, next to a file that must never be served.
  const root = mkdtempSync(join(tmpdir(), 'storefront-'));
  dir = join(root, 'dist');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><script type="module" src="/assets/index-abc.js"></script>',
  );
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log("shop")');
  writeFileSync(join(root, 'secret.txt'), 'not for the web');
  const sidecar = new DaprSidecar({ host: '127.0.0.1', httpPort: 1, pubsubName: 'p' });
  const app = assembleStatelessApp(
    { config: {} as never, log: createLogger('gateway', 'silent'), sidecar },
    { routers: [storefrontRouter(dir)] },
  );
  http = request(app.callback());
});
afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('the storefront page', () => {
  test('When a browser opens /, then it gets the page, never cached, with a policy that allows only this origin', async () => {
    const res = await http.get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('/assets/index-abc.js');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  test('When it loads an asset, then it is served with its type and cached for a year (its name changes with it)', async () => {
    const res = await http.get('/assets/index-abc.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('max-age=31536000,immutable');
  });

  test('When a path reaches outside the folder (403) or names no file (404), then it is a problem document and nothing leaks', async () => {
    for (const [path, status] of [
      ['/assets/..%2f..%2fsecret.txt', 403],
      ['/assets/%2e%2e%2findex.html', 403],
      ['/assets/missing.js', 404],
      ['/secret.txt', 404],
    ] as const) {
      const res = await http.get(path);
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({
        path,
        status,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect(res.text).not.toContain('not for the web');
    }
  });
});
