import { UnauthorizedError } from '@shop/platform';

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
