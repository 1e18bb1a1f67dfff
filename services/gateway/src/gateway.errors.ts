import { AppError, ForbiddenError, UnauthorizedError } from '@shop/platform';

export class AuthenticationRequiredError extends UnauthorizedError {
  constructor() {
    super(
      'authentication-required',
      'Sign in first',
      'This operation needs an access token: POST /auth/login, then send it as Authorization: Bearer <token>.',
    );
  }
}

export class InvalidTokenError extends UnauthorizedError {
  constructor(detail: string) {
    super('invalid-token', 'The access token is not valid', detail);
  }
}

/** Signed in, but the resource is another user's. */
export class NotOwnerError extends ForbiddenError {
  constructor(what: string) {
    super('not-owner', 'This belongs to another user', `You can only act on your own ${what}.`);
  }
}

export class RoleRequiredError extends ForbiddenError {
  constructor(role: string) {
    super('role-required', `This needs the ${role} role`, `Only a user with the role ${role} may do this.`);
  }
}

/** The saga's own steps are called by the order service inside the mesh, never from outside. */
export class InternalOperationError extends ForbiddenError {
  constructor(path: string) {
    super('internal-operation', 'This operation is not public', `${path} is a step of the order saga.`);
  }
}

export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super({
      slug: 'rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `Slow down: try again in ${retryAfterSeconds} s.`,
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The service behind a route, its sidecar, or the keys that verify tokens could not be reached. */
export class UpstreamUnavailableError extends AppError {
  constructor(what: string, cause?: unknown) {
    super({
      slug: 'upstream-unavailable',
      title: 'A service is unavailable',
      status: 503,
      detail: `${what} did not answer; try again.`,
      cause,
    });
  }
}

/** The user holds as many live streams as they may: one must close first. */
export class TooManyStreamsError extends AppError {
  constructor(max: number) {
    super({
      slug: 'too-many-streams',
      title: 'Too many live streams',
      status: 429,
      detail: `You follow ${max} streams already: close one first.`,
      extensions: { max },
    });
  }
}
