/**
 * The one error type domain code throws. It carries what an RFC 9457 problem
 * document needs; `type` is stable so that callers (the saga, a UI) can branch
 * on it rather than on the wording of `title` or `detail`.
 */
export interface ProblemFields {
  /** Short kebab-case slug, turned into the problem `type` URI. */
  slug: string;
  title: string;
  status: number;
  detail?: string;
  /** Extension members added to the problem document (RFC 9457 section 3.2). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

/** What a slug may be: lower-case words joined by hyphens, so that every type is a valid URN. */
export const PROBLEM_SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const problemTypeUri = (slug: string): string => `urn:shop-on-dapr:problem:${slug}`;

export class AppError extends Error {
  readonly slug: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(fields: ProblemFields) {
    super(fields.detail ?? fields.title, { cause: fields.cause });
    this.name = new.target.name;
    this.slug = fields.slug;
    this.title = fields.title;
    this.status = fields.status;
    this.detail = fields.detail;
    this.extensions = fields.extensions ?? {};
  }

  get type(): string {
    return problemTypeUri(this.slug);
  }
}

export interface FieldIssue {
  /** Where the problem is, e.g. `body.items.0.quantity`. */
  field: string;
  message: string;
}

/** Malformed or invalid client input: 422 with every field that was wrong. */
export class ValidationError extends AppError {
  constructor(issues: FieldIssue[], detail = 'The request has invalid fields.') {
    super({
      slug: 'validation-failed',
      title: 'Your request is not valid',
      status: 422,
      detail,
      extensions: { errors: issues },
    });
  }
}

export class NotFoundError extends AppError {
  /** `what` in words (`coupon request`); its type is `coupon-request-not-found`. */
  constructor(what: string, id: string) {
    super({
      slug: `${what.replace(/ /g, '-')}-not-found`,
      title: `${what[0]?.toUpperCase()}${what.slice(1)} not found`,
      status: 404,
      detail: `No ${what} has the id ${id}.`,
      extensions: { id },
    });
  }
}

/** A business rule refused the request (out of stock, not enough points...). */
export class BusinessRuleError extends AppError {
  constructor(slug: string, title: string, detail?: string, extensions?: Record<string, unknown>) {
    super({ slug, title, status: 409, detail, extensions });
  }
}

/** No credentials, or credentials that do not hold (a bad password, an expired token): 401. */
export class UnauthorizedError extends AppError {
  constructor(slug: string, title: string, detail?: string) {
    super({ slug, title, status: 401, detail });
  }
}

/** Known caller, not allowed to do this: 403. */
export class ForbiddenError extends AppError {
  constructor(slug: string, title: string, detail?: string) {
    super({ slug, title, status: 403, detail });
  }
}
