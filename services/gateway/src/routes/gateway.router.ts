import Router from '@koa/router';
import {
  type AccessClaims,
  DaprHttpError,
  type DaprSidecar,
  PROBLEM_CONTENT_TYPE,
  SidecarUnavailableError,
  type TokenBuckets,
  ValidationError,
} from '@shop/platform';
import type { Context, Next } from 'koa';
import type { VerifyAccessToken } from '../auth/access-token.ts';
import {
  InternalOperationError,
  InvalidTokenError,
  RateLimitedError,
  TooManyStreamsError,
  UpstreamUnavailableError,
} from '../gateway.errors.ts';
import { forward } from '../proxy/forward.ts';
import type { OpenStreams } from '../rate-limit/open-streams.ts';
import type { OwnedKind } from './access.ts';
import { type PublicRoute, publicApi } from './public-api.ts';

export interface GatewayDeps {
  sidecar: DaprSidecar;
  verifyToken: VerifyAccessToken;
  /** One set of buckets for signed-in users, one for anonymous callers' addresses. */
  rateLimit: { user: TokenBuckets; anonymous: TokenBuckets };
  /** The live streams each user holds (every stream route needs a signed-in owner). */
  streams: OpenStreams;
  upstreamTimeoutMs: number;
  /**
   * FAKE_GATEWAY_FAULTS: an operator's fault headers are passed on to the
   * services (a customer's never are). Off unless common.fakeGatewayFaults, in the chart.
   */
  faultsFromOps: boolean;
}

interface GatewayState {
  caller?: AccessClaims;
}

/** A path parameter must be one plain segment (ids are UUIDs): no `..`, no encoded slash, nothing to escape. */
const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,100}$/;

function upstreamPath(route: PublicRoute, params: Record<string, string>): string {
  const bad = Object.entries(params).filter(([, value]) => !SAFE_SEGMENT.test(value));
  if (bad.length > 0) {
    throw new ValidationError(bad.map(([name]) => ({ field: `path.${name}`, message: 'Not a valid id' })));
  }
  return (route.upstream ?? route.path).replace(/:([A-Za-z]+)/g, (_, name: string) => params[name]!);
}

/** Who made an order or a coupon request, asked of the service that owns it. */
const ownerLookups: Record<OwnedKind, { app: string; path: (id: string) => string }> = {
  order: { app: 'order', path: (id) => `orders/${id}` },
  'coupon-request': { app: 'coupon', path: (id) => `coupon-requests/${id}` },
};

/** A service's 4xx answer to a lookup (404, 422) is the gateway's answer too. */
class UpstreamAnswer extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    super(`upstream answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function ownerOf(sidecar: DaprSidecar, kind: OwnedKind, id: string, ctx: Context): Promise<string> {
  const lookup = ownerLookups[kind];
  try {
    const found = await sidecar.invoke<{ userId: string }>(lookup.app, lookup.path(id), 'GET', undefined, {
      headers: { 'x-request-id': ctx.state.requestId },
    });
    return found.userId;
  } catch (err) {
    if (err instanceof DaprHttpError && err.status < 500) throw new UpstreamAnswer(err.status, err.body);
    if (err instanceof DaprHttpError || err instanceof SidecarUnavailableError) {
      throw new UpstreamUnavailableError(`The ${lookup.app} service`, err);
    }
    throw err;
  }
}

/** `Authorization: Bearer <token>`, verified when present; whether one is needed is the route's to say. */
function authenticate(verifyToken: VerifyAccessToken) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get('authorization');
    if (header) {
      const [scheme, token] = header.split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || !token) {
        throw new InvalidTokenError('Send it as Authorization: Bearer <token>.');
      }
      (ctx.state as GatewayState).caller = await verifyToken(token);
    }
    await next();
  };
}

/** Per signed-in user, or per address for anonymous calls (sign-in attempts, the catalog). */
function rateLimit(buckets: GatewayDeps['rateLimit']) {
  return async (ctx: Context, next: Next) => {
    const caller = (ctx.state as GatewayState).caller;
    const wait = caller ? buckets.user.take(caller.sub) : buckets.anonymous.take(ctx.ip);
    if (wait > 0) {
      ctx.set('retry-after', String(wait));
      throw new RateLimitedError(wait);
    }
    await next();
  };
}

/** Every 401 says how to authenticate (RFC 9110 §11.6.1). */
async function challenge(ctx: Context, next: Next) {
  try {
    await next();
  } catch (err) {
    if ((err as { status?: number }).status === 401)
      ctx.set('www-authenticate', 'Bearer realm="shop-on-dapr"');
    throw err;
  }
}

export function gatewayRouter(deps: GatewayDeps): Router {
  const router = new Router();
  router.use(challenge, authenticate(deps.verifyToken), rateLimit(deps.rateLimit));
  for (const route of publicApi) {
    router.register(route.path, [route.method], async (ctx) => {
      const caller = (ctx.state as GatewayState).caller;
      const path = upstreamPath(route, ctx.params);
      let checkAnswer: ((answer: unknown) => void) | undefined;
      try {
        checkAnswer = await route.access({
          caller,
          method: ctx.method,
          params: ctx.params,
          body: ctx.request.body,
          ownerOf: (kind, id) => ownerOf(deps.sidecar, kind, id, ctx),
        });
      } catch (err) {
        if (!(err instanceof UpstreamAnswer)) throw err;
        ctx.status = err.status;
        ctx.type = PROBLEM_CONTENT_TYPE;
        ctx.body = err.body;
        return;
      }
      if (route.stream && caller) {
        if (!deps.streams.take(caller.sub)) throw new TooManyStreamsError(deps.streams.max);
        // Released when the client's connection ends, however the stream ends.
        ctx.res.once('close', () => deps.streams.release(caller.sub));
      }
      await forward(
        ctx,
        deps.sidecar,
        {
          app: route.app,
          path,
          stream: route.stream ?? false,
          location: (location) =>
            location.startsWith('/ops/') ? location.replace('/ops/', `/ops/${route.app}/`) : location,
          checkAnswer,
          faults: deps.faultsFromOps && caller?.role === 'ops',
        },
        caller,
        deps.upstreamTimeoutMs,
      );
    });
  }
  router.all('/saga{/*rest}', (ctx) => {
    throw new InternalOperationError(ctx.path);
  });
  return router;
}
