import { AppError, UnauthorizedError } from '@shop/platform';

/** One answer for an unknown email and a wrong password, so that sign-in does not tell which emails exist. */
export class InvalidCredentialsError extends UnauthorizedError {
  constructor() {
    super('invalid-credentials', 'The email or password is wrong');
  }
}

export class InvalidRefreshTokenError extends UnauthorizedError {
  constructor() {
    super(
      'invalid-refresh-token',
      'The refresh token is not valid',
      'It is unknown, expired, signed out or already used: sign in again.',
    );
  }
}

/** Too many wrong passwords for this email in a row: wait before the next try (Retry-After). */
export class SignInDelayedError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super({
      slug: 'sign-in-delayed',
      title: 'Too many wrong passwords',
      status: 429,
      detail: `Try again in ${retryAfterSeconds} s.`,
      extensions: { retryAfter: retryAfterSeconds },
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Every password check of the service is taken: try again in a moment (Retry-After). */
export class PasswordWorkBusyError extends AppError {
  readonly retryAfterSeconds = 1;

  constructor() {
    super({
      slug: 'sign-in-busy',
      title: 'Too many sign-ins at once',
      status: 503,
      detail: 'Try again in a moment.',
    });
  }
}
