import { type InferEntity, UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  addToOutbox,
  BusinessRuleError,
  type EntityManager,
  NotFoundError,
  newEvent,
  type Role,
  uuidv7,
} from '@shop/platform';
import { hashPassword } from '../auth/passwords.ts';
import { PointAccountEntity, UserEntity } from '../db/entities.ts';
import { USER_EVENTS, UserEventType } from '../events/topics.ts';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
}

const toRecord = (u: InferEntity<typeof UserEntity>): UserRecord => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
});

export class EmailTakenError extends BusinessRuleError {
  constructor(email: string) {
    super('email-taken', 'This email is already registered', `A user with the email ${email} exists.`, {
      email,
    });
  }
}

/** Puts UserRegistered in the outbox, within the caller's transaction. */
export const announceRegistration = (tx: EntityManager, userId: string) =>
  addToOutbox(
    tx,
    newEvent({
      topic: USER_EVENTS,
      type: UserEventType.UserRegistered,
      source: 'user',
      subject: userId,
      data: { userId },
    }),
  );

/**
 * Registers a customer and announces it (UserRegistered) in the same transaction. Without a
 * password the user exists (services and tests register users so) but cannot sign in.
 */
export async function registerUser(
  em: EntityManager,
  input: { email: string; name: string; password?: string | undefined },
): Promise<UserRecord> {
  const email = input.email.toLowerCase();
  // Hashed before the transaction: it takes tens of milliseconds, no connection held meanwhile.
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const register = em.fork().transactional(async (tx) => {
    if (await tx.findOne(UserEntity, { email })) throw new EmailTakenError(email);
    const user = tx.create(UserEntity, {
      id: uuidv7(),
      email,
      name: input.name,
      passwordHash,
      role: 'customer',
      createdAt: new Date(),
    });
    await tx.flush();
    await tx.insert(PointAccountEntity, { userId: user.id, balance: 0, updatedAt: new Date() });
    await announceRegistration(tx, user.id);
    return toRecord(user);
  });
  // Two registrations of one email at once: the unique index decides.
  return register.catch((err: unknown) => {
    throw err instanceof UniqueConstraintViolationException ? new EmailTakenError(email) : err;
  });
}

/**
 * The public sign-up: registers a customer with a password, and answers the
 * same way when the email is taken (the password is hashed either way, so
 * both take as long): a stranger cannot learn which emails have accounts.
 * True when an account was made.
 */
export async function signUp(
  em: EntityManager,
  input: { email: string; name: string; password: string },
): Promise<boolean> {
  try {
    await registerUser(em, input);
    return true;
  } catch (err) {
    if (err instanceof EmailTakenError) return false;
    throw err;
  }
}

export async function getUser(em: EntityManager, id: string): Promise<UserRecord> {
  const user = await em.fork().findOne(UserEntity, { id });
  if (!user) throw new NotFoundError('user', id);
  return toRecord(user);
}
