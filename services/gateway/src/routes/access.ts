import type { AccessClaims } from '@shop/platform';
import { AuthenticationRequiredError, NotOwnerError, RoleRequiredError } from '../gateway.errors.ts';

/** What a rule sees of a request. `ownerOf` asks the owning service whose a resource is. */
export interface AccessRequest {
  caller: AccessClaims | undefined;
  method: string;
  params: Record<string, string>;
  body: unknown;
  ownerOf: (kind: OwnedKind, id: string) => Promise<string>;
}

export type OwnedKind = 'order' | 'coupon-request';

/**
 * Throws when the caller may not do this; otherwise the request goes through,
 * and when the rule returns a check, the service's answer must pass it too.
 */
export type AccessRule = (
  request: AccessRequest,
) => Promise<AnswerCheck | undefined> | AnswerCheck | undefined;

/** Throws when the answer may not be shown to the caller. */
export type AnswerCheck = (answer: unknown) => void;

const signedInCaller = (request: AccessRequest): AccessClaims => {
  if (!request.caller) throw new AuthenticationRequiredError();
  return request.caller;
};

/** Admins and operations may read any user's data (to help them); only the user may change it. */
const mayRead = (caller: AccessClaims, method: string) =>
  method === 'GET' && (caller.role === 'admin' || caller.role === 'ops');

export const anyone: AccessRule = () => undefined;

/** The caller has one of these roles. */
export const role =
  (...allowed: ('admin' | 'ops')[]): AccessRule =>
  (request) => {
    if (!(allowed as string[]).includes(signedInCaller(request).role))
      throw new RoleRequiredError(allowed.join(' or '));
    return undefined;
  };

/** The path's user id is the caller's. */
export const ownUser =
  (param: string): AccessRule =>
  (request) => {
    const caller = signedInCaller(request);
    if (request.params[param] !== caller.sub && !mayRead(caller, request.method)) {
      throw new NotOwnerError('user account');
    }
    return undefined;
  };

/**
 * The body's user id is the caller's (an order, a coupon request). A body
 * without one goes on: the service refuses it (422) on its own.
 */
export const ownBody =
  (field: string, what: string): AccessRule =>
  (request) => {
    const caller = signedInCaller(request);
    const value = (request.body as Record<string, unknown> | undefined)?.[field];
    if (value !== undefined && value !== caller.sub) throw new NotOwnerError(what);
    return undefined;
  };

/**
 * A read whose answer names its owner (`userId`: an order, a coupon request):
 * the answer itself is checked, so one call does, where asking first would take two.
 */
export const ownAnswer =
  (what: string): AccessRule =>
  (request) => {
    const caller = signedInCaller(request);
    if (mayRead(caller, request.method)) return undefined;
    return (answer) => {
      if ((answer as { userId?: unknown } | undefined)?.userId !== caller.sub) throw new NotOwnerError(what);
    };
  };

/** The resource the path names (an order, a coupon request) was made by the caller. */
export const ownResource =
  (kind: OwnedKind, param: string): AccessRule =>
  async (request) => {
    const caller = signedInCaller(request);
    if (mayRead(caller, request.method)) return;
    if ((await request.ownerOf(kind, request.params[param]!)) !== caller.sub)
      throw new NotOwnerError(`${kind}s`);
  };
