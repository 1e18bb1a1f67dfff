import { describe, expect, test } from '@jest/globals';
import { type ApiOperation, type OpenApiDocument, serviceDocument } from '@shop/platform';
import { z } from 'zod';
import { APPS, type AppId, publicApi } from '../routes/public-api.ts';
import { composeGatewayDocument } from './gateway-document.ts';

/** Each service's document as it would serve it: one operation per route the gateway sends it. */
function serviceDocuments(): Record<AppId, OpenApiDocument> {
  const byApp = Object.fromEntries(APPS.map((app) => [app, [] as ApiOperation[]])) as Record<
    AppId,
    ApiOperation[]
  >;
  for (const route of publicApi) {
    const path = route.upstream ?? route.path;
    const names = [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
    byApp[route.app].push({
      method: route.method.toLowerCase() as ApiOperation['method'],
      path,
      summary: `${route.method} ${path}`,
      ...(names.length ? { params: z.object(Object.fromEntries(names.map((n) => [n, z.uuid()]))) } : {}),
      responses: { 200: { description: 'ok' } },
    });
  }
  byApp.user.push({
    method: 'post',
    path: '/saga/points/refund',
    summary: 'a saga step',
    responses: { 200: { description: 'ok' } },
  });
  return Object.fromEntries(APPS.map((app) => [app, serviceDocument(app, byApp[app])])) as Record<
    AppId,
    OpenApiDocument
  >;
}

describe('the gateway’s OpenAPI document', () => {
  const document = composeGatewayDocument(serviceDocuments());

  test('When it is composed, then every public route is there under the gateway’s path, and no saga step', () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/orders/{id}',
        '/ops/order/orders',
        '/ops/user/dead-letters',
        '/healthz',
        '/openapi.json',
      ]),
    );
    expect(Object.keys(document.paths).filter((p) => p.startsWith('/saga'))).toEqual([]);
    expect(Object.keys(document.paths)).not.toContain('/ops/dead-letters');
  });

  test('When a route needs a token, then it says so and names 401 and 403; anyone’s routes do not', () => {
    const order = document.paths['/orders/{id}']!.get as {
      security: unknown;
      responses: Record<string, unknown>;
    };
    expect(order.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(order.responses)).toEqual(
      expect.arrayContaining(['200', '401', '403', '404', '429', '503']),
    );
    const catalog = document.paths['/products']!.get as {
      security?: unknown;
      responses: Record<string, unknown>;
    };
    expect(catalog.security).toBeUndefined();
    expect(Object.keys(catalog.responses)).not.toContain('401');
    expect(document.components.securitySchemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
  });

  test('When a service does not document a route the gateway sends it, then composing fails naming it', () => {
    const documents = serviceDocuments();
    delete documents.order.paths['/orders/{id}'];
    expect(() => composeGatewayDocument(documents)).toThrow('order does not document GET /orders/{id}');
  });
});
