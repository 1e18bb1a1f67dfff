/**
 * Every service's OpenAPI 3.1 document, as it serves it: valid (checked by
 * @apidevtools/swagger-parser against the OpenAPI 3.1 schema), and complete —
 * each route the app serves, but the sidecar's callbacks, is in it.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, describe, expect, test } from '@jest/globals';
import { openApiPath, type ServiceDefinition } from '@shop/platform';
import { type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import type Koa from 'koa';
import request from 'supertest';
import { couponService } from '../../services/coupon/src/service.ts';
import { orderService } from '../../services/order/src/service.ts';
import { paymentService } from '../../services/payment/src/service.ts';
import { productService } from '../../services/product/src/service.ts';
import { userService } from '../../services/user/src/service.ts';

const services: [string, ServiceDefinition<any>][] = [
  ['user', userService],
  ['product', productService],
  ['coupon', couponService],
  ['payment', paymentService],
  ['order', orderService],
];

/**
 * Not a client's API: where Dapr calls the app (subscriptions, deliveries,
 * actors), and Prometheus's scrape (`/metrics`, text in its own format).
 */
const SIDECAR_CALLBACK = /^\/(dapr|actors|events|dead-letters)\/|^\/metrics$/;

/** Every `METHOD /path` the app's routers serve (from @koa/router's dispatchers). */
function servedRoutes(app: Koa): string[] {
  const routes = new Set<string>();
  for (const middleware of app.middleware as {
    router?: { stack: { path: string; methods: string[] }[] };
  }[]) {
    for (const layer of middleware.router?.stack ?? []) {
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
        if (!SIDECAR_CALLBACK.test(layer.path)) routes.add(`${method} ${openApiPath(layer.path)}`);
      }
    }
  }
  return [...routes].sort();
}

const started: ServiceUnderTest[] = [];
afterAll(() => Promise.all(started.map((s) => s.close())));

describe('GET /openapi.json', () => {
  test.each(services)(
    'When %s serves its contract, then it is valid OpenAPI 3.1 and names every route',
    async (name, definition) => {
      const svc = await startServiceUnderTest(`${name}_openapi`, definition, {
        REDIS_URL: process.env.SHOP_TEST_REDIS_URL!,
      });
      started.push(svc);
      const res = await request(svc.app.callback()).get('/openapi.json');
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe('3.1.0');
      await SwaggerParser.validate(structuredClone(res.body));

      const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>)
        .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      expect(documented).toEqual(servedRoutes(svc.app));
    },
  );
});
