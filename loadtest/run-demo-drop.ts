/**
 * `npm run demo:drop -- [--users 60] [--quota 20] [--starts-in 30] [--coupon <id>]`
 * with `npm start` running: schedules a coupon drop (or takes an existing
 * coupon), then fires a crowd of simulated customers at it when it opens.
 * Open the storefront, sign in, and press "Get it" when the countdown ends.
 */
import { parseArgs } from 'node:util';
import { fireCrowd } from '@shop/testkit';
import { gateway } from '../local/src/topology.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '60' },
    quota: { type: 'string', default: '20' },
    'starts-in': { type: 'string', default: '30' },
    coupon: { type: 'string' },
    gateway: { type: 'string', default: gateway.appUrl },
  },
});

const outcome = await fireCrowd({
  gatewayUrl: values.gateway,
  users: Number(values.users),
  quota: Number(values.quota),
  startsInMs: Number(values['starts-in']) * 1000,
  ...(values.coupon ? { couponId: values.coupon } : {}),
  admin: {
    email: process.env.SHOP_ADMIN_EMAIL ?? 'admin@example.com',
    password: process.env.SHOP_ADMIN_PASSWORD ?? 'admin-demo-pass',
  },
  log: (line) => console.log(`[drop] ${line}`),
});
console.log(JSON.stringify(outcome));
