import {
  API_VERSION,
  type DaprSidecar,
  type OpenApiDocument,
  openApiDocument,
  openApiPath,
  problemSchema,
} from '@shop/platform';
import { UpstreamUnavailableError } from '../gateway.errors.ts';
import { anyone } from '../routes/access.ts';
import { APPS, type AppId, type PublicRoute, publicApi } from '../routes/public-api.ts';

type Operation = { responses: Record<string, unknown>; [more: string]: unknown };

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/**
 * The gateway's contract, made from the services' own documents (each
 * generated from the zod schemas its routes validate with) and the route
 * table: every public route with the service's parameters, body and answers,
 * under the gateway's path, plus what the gateway adds — the bearer token
 * where one is needed (401, 403), the rate limit (429), an unreachable
 * service (503). What the table does not route (the saga's steps) is not in it.
 */
export function composeGatewayDocument(
  documents: Record<AppId, OpenApiDocument>,
  routes: PublicRoute[] = publicApi,
): OpenApiDocument {
  const own = openApiDocument({ title: 'Shop on Dapr: gateway', version: API_VERSION }, []);
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const upstream = openApiPath(route.upstream ?? route.path);
    const method = route.method.toLowerCase();
    const operation = documents[route.app].paths[upstream]?.[method] as Operation | undefined;
    if (!operation) throw new Error(`${route.app} does not document ${route.method} ${upstream}`);
    const signedIn = route.access !== anyone;
    const path = openApiPath(route.path);
    paths[path] = {
      ...paths[path],
      [method]: {
        ...operation,
        ...(signedIn ? { security: [{ bearer: [] }] } : {}),
        responses: {
          ...operation.responses,
          ...(signedIn
            ? { 401: problem('No valid access token'), 403: problem('Another user’s, or a role is missing') }
            : {}),
          429: problem('Too many requests (see Retry-After)'),
          503: problem('The service could not be reached'),
        },
      },
    };
  }
  const health = documents.user.paths;
  for (const ownPath of ['/healthz', '/readyz', '/openapi.json']) paths[ownPath] = health[ownPath]!;
  return {
    ...own,
    info: {
      ...own.info,
      description:
        'The public API: sign in at POST /auth/login, then send Authorization: Bearer <accessToken>.',
    },
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

/** Asks every service for its document through the sidecar; kept once all answered (they change only with a deploy). */
export function gatewayDocument(sidecar: DaprSidecar): () => Promise<OpenApiDocument> {
  let composed: OpenApiDocument | undefined;
  return async () => {
    if (composed) return composed;
    const documents = await Promise.all(
      APPS.map(async (app) => {
        const document = await sidecar.invoke<OpenApiDocument>(app, 'openapi.json', 'GET').catch((err) => {
          throw new UpstreamUnavailableError(`The ${app} service (for its OpenAPI document)`, err);
        });
        return [app, document] as const;
      }),
    );
    composed = composeGatewayDocument(Object.fromEntries(documents) as Record<AppId, OpenApiDocument>);
    return composed;
  };
}
