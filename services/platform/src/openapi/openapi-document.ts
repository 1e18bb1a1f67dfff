import { type ZodType, z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem-middleware.ts';
import { healthOperations } from '../http/health.router.ts';
import type { ApiOperation } from './api-operation.ts';

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 (what OpenAPI 3.1 speaks) of what a client sends. */
export function jsonSchemaOf(schema: ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** RFC 9457, with our `errors` extension for invalid fields. */
export const problemSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const problemTitles: Record<number, string> = {
  400: 'The body is not JSON',
  401: 'Not signed in, or the token is not valid',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Refused by a business rule',
  422: 'Invalid input',
  429: 'Too many requests',
  503: 'Unavailable for now',
};

const problemResponse = (status: number) => ({
  description: problemTitles[status] ?? 'A problem',
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
});

function parameters(schema: ZodType | undefined, where: 'path' | 'query' | 'header') {
  if (!schema) return [];
  const json = jsonSchemaOf(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

/** The statuses every operation of this shape may answer with a problem. */
function problemStatuses(op: ApiOperation): number[] {
  const statuses = new Set(op.problems ?? []);
  if (op.body) statuses.add(400);
  if (op.params || op.query || op.body || op.idempotencyKey) statuses.add(422);
  if (op.params) statuses.add(404);
  // A service on its way out answers 503 shutting-down: a client retries it.
  statuses.add(503);
  return [...statuses].sort();
}

function operationObject(op: ApiOperation) {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(op.responses)) {
    responses[status] =
      Number(status) === 204
        ? { description: response.description }
        : {
            description: response.description,
            content: response.eventStream
              ? { 'text/event-stream': { schema: { type: 'string' } } }
              : { 'application/json': { schema: {} } },
          };
  }
  for (const status of problemStatuses(op)) responses[String(status)] ??= problemResponse(status);
  const idempotencyKey = op.idempotencyKey
    ? [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: op.idempotencyKey === 'required',
          schema: { type: 'string', minLength: 8, maxLength: 100 },
        },
      ]
    : [];
  return {
    summary: op.summary,
    parameters: [...parameters(op.params, 'path'), ...parameters(op.query, 'query'), ...idempotencyKey],
    ...(op.body
      ? {
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(op.body) } } },
        }
      : {}),
    responses,
  };
}

/** `/users/:id` → `/users/{id}`. */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown>; [more: string]: unknown };
  [more: string]: unknown;
}

/** The OpenAPI 3.1 document of a list of operations. */
export function openApiDocument(
  info: { title: string; version: string; description?: string },
  operations: ApiOperation[],
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operationObject(op) };
  }
  return { openapi: '3.1.0', info, paths, components: { schemas: { Problem: problemSchema } } };
}

/** This document's own route. */
const openApiOperation: ApiOperation = {
  method: 'get',
  path: '/openapi.json',
  summary: 'This OpenAPI 3.1 document',
  responses: { 200: { description: 'The document' } },
};

/** A service's document: its operations plus every app's health and contract routes. */
export const serviceDocument = (appId: string, operations: ApiOperation[]) =>
  openApiDocument({ title: `Shop on Dapr: ${appId}`, version: API_VERSION }, [
    ...healthOperations,
    openApiOperation,
    ...operations,
  ]);

export const API_VERSION = '0.1.0';
