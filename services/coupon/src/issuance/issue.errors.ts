import { AppError } from '@shop/platform';

export class UnknownUserError extends AppError {
  constructor(userId: string) {
    super({
      slug: 'validation-failed',
      title: 'Your request is not valid',
      status: 422,
      detail: `No user has the id ${userId}.`,
      extensions: { errors: [{ field: 'body.userId', message: 'no such user' }] },
    });
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super({
      slug: 'rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `Too many coupon requests from this user; try again in ${retryAfterSeconds} s.`,
      extensions: { retryAfter: retryAfterSeconds },
    });
  }
}
