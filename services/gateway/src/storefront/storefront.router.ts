import Router from '@koa/router';
import { send } from '@koa/send';
import type { Context } from 'koa';

/**
 * The page may load only its own files and talk only to this origin: what a
 * service answers is shown as text, and even injected markup could neither
 * load a script from elsewhere nor send a token away.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const A_YEAR_MS = 365 * 24 * 3600 * 1000;

const securityHeaders = (ctx: Context) =>
  ctx.set({
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });

/**
 * The storefront page (services/storefront, built by Vite) as static files:
 * `index.html` at `/`, never cached (it names the current build's assets), and
 * `/assets/*`, whose names carry a content hash, cached for a year. The
 * gateway knows only the folder (`STOREFRONT_DIR`), not the page's code.
 */
export function storefrontRouter(dir: string): Router {
  const router = new Router();
  router.get('/', async (ctx) => {
    securityHeaders(ctx);
    ctx.set('cache-control', 'no-cache');
    await send(ctx, 'index.html', { root: dir });
  });
  router.get('/assets/:file', async (ctx) => {
    securityHeaders(ctx);
    await send(ctx, ctx.params.file!, { root: `${dir}/assets`, maxage: A_YEAR_MS, immutable: true });
  });
  return router;
}
