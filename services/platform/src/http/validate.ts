import type { Context } from 'koa';
import { type ZodError, type ZodType, z } from 'zod';
import { type FieldIssue, ValidationError } from '../errors/app-error.ts';

export function issuesFromZod(err: ZodError, prefix?: string): FieldIssue[] {
  return err.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || (prefix ?? '(root)'),
    message: issue.message,
  }));
}

/** Postgres text cannot hold a NUL character: a string with one would fail in the database, as a 500. */
const hasNul = (value: unknown): boolean =>
  typeof value === 'string'
    ? value.includes('\u0000')
    : typeof value === 'object' && value !== null && Object.values(value).some(hasNul);

function parseWith<S extends ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  if (hasNul(value))
    throw new ValidationError([{ field: where, message: 'Text must not contain NUL characters' }]);
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(issuesFromZod(result.error, where));
  return result.data;
}

/** Validates the JSON body; a missing body is validated as `{}` so required fields are named. */
export const parseBody = <S extends ZodType>(ctx: Context, schema: S): z.infer<S> =>
  parseWith(schema, (ctx.request as { body?: unknown }).body ?? {}, 'body');

export const parseParams = <S extends ZodType>(ctx: Context, schema: S): z.infer<S> =>
  parseWith(schema, ctx.params, 'path');

export const parseQuery = <S extends ZodType>(ctx: Context, schema: S): z.infer<S> =>
  parseWith(schema, ctx.query, 'query');

/** `?page=1&size=20`: pages start at 1, at most 100 items a page. */
export const pageQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  size: z.coerce.number().int().min(1).max(100).default(20),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export interface Page<T> {
  items: T[];
  page: number;
  size: number;
  total: number;
}
