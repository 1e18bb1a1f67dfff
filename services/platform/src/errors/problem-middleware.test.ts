import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { DaprHttpError, SidecarUnavailableError } from '../dapr/sidecar.ts';
import { BusinessRuleError, NotFoundError, problemTypeUri, ValidationError } from './app-error.ts';
import { toProblem } from './problem-middleware.ts';

describe('toProblem', () => {
  test('When a business rule refuses, then the problem keeps its stable type and extensions', () => {
    const problem = toProblem(
      new BusinessRuleError('out-of-stock', 'Out of stock', 'Only 2 left.', { available: 2 }),
      '/x',
    );
    expect(problem).toEqual({
      type: problemTypeUri('out-of-stock'),
      title: 'Out of stock',
      status: 409,
      detail: 'Only 2 left.',
      instance: '/x',
      available: 2,
    });
  });

  test('When validation fails, then it is a 422 naming each field', () => {
    const problem = toProblem(
      new ValidationError([{ field: 'body.email', message: 'Invalid email' }]),
      '/users',
    );
    expect(problem.status).toBe(422);
    expect(problem.errors).toEqual([{ field: 'body.email', message: 'Invalid email' }]);
  });

  test('When a zod error escapes, then it is still a 422, not a 500', () => {
    const result = z.object({ quota: z.number() }).safeParse({ quota: 'many' });
    expect(result.success).toBe(false);
    const problem = toProblem(result.error, '/actors');
    expect(problem.status).toBe(422);
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'quota' })]);
  });

  test('When the body is malformed JSON, then it is a 400 with a malformed-body type', () => {
    const err = Object.assign(new Error('Unexpected token } in JSON'), { status: 400, expose: true });
    expect(toProblem(err, '/users')).toMatchObject({ status: 400, type: problemTypeUri('malformed-body') });
  });

  test('When an unknown error happens, then it is a 500 that leaks nothing', () => {
    const problem = toProblem(new Error('password=secret'), '/users');
    expect(problem).toEqual({
      type: problemTypeUri('internal'),
      title: 'Internal server error',
      status: 500,
      instance: '/users',
    });
  });

  test('When a dependency is out of reach, out of disk or shutting down, then it is a 503; a constraint violation is still a 500', () => {
    const unavailable = [
      // Postgres's disk full (53100), too many connections (53300), shutting down (57P01).
      Object.assign(new Error('could not extend file "base/16384/16385": No space left on device'), {
        code: '53100',
      }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      // The pool's own words, and a refusal wrapped by the ORM or by fetch.
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      new Error('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      }),
      // The sidecar not answering, or the service behind it answering 503 (its own database away).
      new SidecarUnavailableError('dapr sidecar did not answer'),
      new DaprHttpError(503, { status: 503 }, 'product'),
    ];
    for (const err of unavailable)
      expect(toProblem(err, '/orders')).toMatchObject({
        status: 503,
        type: problemTypeUri('dependency-unavailable'),
      });
    // Our bugs stay 500s: a constraint violated, a protocol violation (08P01), a query out of memory (53200),
    // a service behind the sidecar failing.
    const bugs = [
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
      Object.assign(new Error('bind message supplies 2 parameters, but prepared statement requires 3'), {
        code: '08P01',
      }),
      Object.assign(new Error('out of memory'), { code: '53200' }),
      new DaprHttpError(500, { status: 500 }, 'product'),
    ];
    for (const err of bugs) expect(toProblem(err, '/orders').status).toBe(500);
  });

  test('When something is missing, then it is a 404 with the id', () => {
    expect(toProblem(new NotFoundError('user', 'u-1'), '/users/u-1')).toMatchObject({
      status: 404,
      type: problemTypeUri('user-not-found'),
      id: 'u-1',
    });
  });

  test('When the missing thing is named in words, then its type joins them with hyphens', () => {
    expect(toProblem(new NotFoundError('coupon request', 'r-1'), '/coupon-requests/r-1')).toMatchObject({
      status: 404,
      type: problemTypeUri('coupon-request-not-found'),
      title: 'Coupon request not found',
    });
  });
});
