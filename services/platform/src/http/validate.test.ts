import { describe, expect, test } from '@jest/globals';
import type { Context } from 'koa';
import { z } from 'zod';
import { ValidationError } from '../errors/app-error.ts';
import { parseBody } from './validate.ts';

const withBody = (body: unknown) => ({ request: { body } }) as unknown as Context;

describe('parseBody', () => {
  test('When a string holds a NUL character, anywhere in the body, then it is a 422 before the database sees it', () => {
    const schema = z.object({ name: z.string(), items: z.array(z.object({ note: z.string() })) });
    expect(() => parseBody(withBody({ name: 'a\u0000b', items: [] }), schema)).toThrow(ValidationError);
    expect(() => parseBody(withBody({ name: 'ok', items: [{ note: '\u0000' }] }), schema)).toThrow(
      ValidationError,
    );
    expect(parseBody(withBody({ name: 'ok', items: [{ note: 'fine' }] }), schema)).toEqual({
      name: 'ok',
      items: [{ note: 'fine' }],
    });
  });
});
