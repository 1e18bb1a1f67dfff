import type { EntityManager, Role } from '@shop/platform';
import { UserEntity } from '../db/entities.ts';
import { InvalidCredentialsError } from './auth.errors.ts';
import { verifyPassword } from './passwords.ts';
import { brakeOrGo, clearFailures, recordFailure } from './sign-in-brake.ts';
import { issueTokens, type TokenPair, type TokenSettings } from './tokens.ts';

/**
 * Email and password → a token pair; the same 401 whether the email is
 * unknown or the password wrong. Braked per email after repeated wrong
 * passwords (sign-in-brake.ts).
 */
export async function signIn(
  em: EntityManager,
  settings: TokenSettings,
  input: { email: string; password: string },
): Promise<TokenPair & { userId: string; role: Role }> {
  const email = input.email.toLowerCase();
  await brakeOrGo(em, email);
  const user = await em
    .fork()
    .findOne(UserEntity, { email }, { fields: ['id', 'role', 'passwordHash'], disableIdentityMap: true });
  if (!(await verifyPassword(user?.passwordHash, input.password)) || !user) {
    await recordFailure(em, email);
    throw new InvalidCredentialsError();
  }
  await clearFailures(em, email);
  const tokens = await issueTokens(em, settings, { id: user.id, role: user.role });
  return { ...tokens, userId: user.id, role: user.role };
}
