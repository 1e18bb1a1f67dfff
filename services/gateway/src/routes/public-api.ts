import { JWKS_PATH } from '@shop/platform';
import { type AccessRule, anyone, ownAnswer, ownBody, ownResource, ownUser, role } from './access.ts';

export const APPS = ['user', 'product', 'coupon', 'payment', 'order'] as const;
export type AppId = (typeof APPS)[number];

export interface PublicRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path the gateway serves (Koa router syntax). */
  path: string;
  app: AppId;
  /** The path on the app, with the same `:params`; the gateway's own path when absent. */
  upstream?: string;
  access: AccessRule;
  /** Server-sent events: streamed as they come, for as long as the client stays. */
  stream?: boolean;
}

/**
 * The public API: every route the gateway serves, who may call it and which
 * service answers. What is not here is not reachable from outside — the
 * saga's steps (`/saga/*`), the sidecar's callbacks (`/dapr/*`, `/actors/*`).
 * Operations routes are `/ops/<app>/...`, since every service has its own.
 */
export const publicApi: PublicRoute[] = [
  // Sign-up, sign-in, the keys that verify tokens.
  { method: 'POST', path: '/users', upstream: '/auth/sign-up', app: 'user', access: anyone },
  { method: 'POST', path: '/auth/login', app: 'user', access: anyone },
  { method: 'POST', path: '/auth/refresh', app: 'user', access: anyone },
  { method: 'POST', path: '/auth/logout', app: 'user', access: anyone },
  { method: 'GET', path: JWKS_PATH, app: 'user', access: anyone },
  // A user's own account.
  { method: 'GET', path: '/users/:id', app: 'user', access: ownUser('id') },
  { method: 'GET', path: '/users/:id/points', app: 'user', access: ownUser('id') },
  { method: 'GET', path: '/users/:id/points/ledger', app: 'user', access: ownUser('id') },
  { method: 'GET', path: '/users/:id/top-ups', app: 'order', access: ownUser('id') },
  { method: 'GET', path: '/users/:id/notifications', app: 'user', access: ownUser('id') },
  { method: 'GET', path: '/users/:id/coupons', app: 'coupon', access: ownUser('id') },
  { method: 'GET', path: '/users/:id/orders', app: 'order', access: ownUser('id') },
  // The cart, kept by the product service: its owner's only.
  { method: 'GET', path: '/users/:id/cart', app: 'product', access: ownUser('id') },
  { method: 'DELETE', path: '/users/:id/cart', app: 'product', access: ownUser('id') },
  { method: 'POST', path: '/users/:id/cart/lines', app: 'product', access: ownUser('id') },
  { method: 'PUT', path: '/users/:id/cart/lines/:productId', app: 'product', access: ownUser('id') },
  { method: 'DELETE', path: '/users/:id/cart/lines/:productId', app: 'product', access: ownUser('id') },
  // Points: bought (paid through the payment service, credited once captured), or granted by staff.
  { method: 'POST', path: '/top-ups', app: 'order', access: ownBody('userId', 'top-ups') },
  { method: 'GET', path: '/top-ups/:id', app: 'order', access: ownAnswer('top-ups') },
  { method: 'POST', path: '/users/:id/points/grants', app: 'user', access: role('admin', 'ops') },
  // The catalog: anyone reads, admins change.
  { method: 'GET', path: '/products', app: 'product', access: anyone },
  { method: 'GET', path: '/products/ranking', app: 'product', access: anyone },
  { method: 'GET', path: '/products/:id', app: 'product', access: anyone },
  { method: 'GET', path: '/products/:id/stock', app: 'product', access: anyone },
  { method: 'POST', path: '/products', app: 'product', access: role('admin') },
  { method: 'PATCH', path: '/products/:id', app: 'product', access: role('admin') },
  // Coupons: admins define them, a user asks for one for themselves.
  { method: 'POST', path: '/coupons', app: 'coupon', access: role('admin') },
  { method: 'GET', path: '/coupons', app: 'coupon', access: anyone },
  { method: 'GET', path: '/coupons/:id', app: 'coupon', access: anyone },
  { method: 'POST', path: '/coupons/:id/issue', app: 'coupon', access: ownBody('userId', 'coupons') },
  { method: 'GET', path: '/coupon-requests/:id', app: 'coupon', access: ownAnswer('coupon requests') },
  {
    method: 'GET',
    path: '/coupon-requests/:id/events',
    app: 'coupon',
    access: ownResource('coupon-request', 'id'),
    stream: true,
  },
  // Orders and their payments: the buyer's own.
  { method: 'POST', path: '/orders', app: 'order', access: ownBody('userId', 'orders') },
  { method: 'GET', path: '/orders/:id', app: 'order', access: ownAnswer('orders') },
  {
    method: 'GET',
    path: '/orders/:id/events',
    app: 'order',
    access: ownResource('order', 'id'),
    stream: true,
  },
  { method: 'GET', path: '/payments/:orderId', app: 'payment', access: ownResource('order', 'orderId') },
  // Operations.
  ...APPS.flatMap((app): PublicRoute[] => [
    {
      method: 'GET',
      path: `/ops/${app}/dead-letters`,
      upstream: '/ops/dead-letters',
      app,
      access: role('ops'),
    },
    {
      method: 'POST',
      path: `/ops/${app}/dead-letters/:id/redrive`,
      upstream: '/ops/dead-letters/:id/redrive',
      app,
      access: role('ops'),
    },
  ]),
  ...(
    [
      ['GET', '/ops/orders'],
      ['POST', '/ops/orders/:id/redrive'],
      ['GET', '/ops/reconciler'],
      ['GET', '/ops/top-ups'],
      ['GET', '/ops/exports'],
      ['GET', '/ops/exports/:orderId'],
      ['POST', '/ops/exports/:orderId/redrive'],
      ['POST', '/ops/workflow-self-test'],
      ['GET', '/ops/workflow-self-test/:instanceId'],
    ] as const
  ).map(
    ([method, upstream]): PublicRoute => ({
      method,
      path: upstream.replace('/ops/', '/ops/order/'),
      upstream,
      app: 'order',
      access: role('ops'),
    }),
  ),
];
