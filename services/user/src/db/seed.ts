import { type EntityManager, type Role, uuidv7 } from '@shop/platform';
import { hashPassword } from '../auth/passwords.ts';
import { announceRegistration } from '../users/users.ts';
import { PointAccountEntity, PointLedgerEntity, UserEntity } from './entities.ts';

/**
 * Users with points for the local platform; fixed ids, so loading them twice changes nothing.
 * The passwords are the README's: demo data for a local machine, never for a deployment.
 */
const DEMO_ADMIN_ID = '0190c0de-0000-7000-8000-0000000000b1';

export const demoUsers: {
  id: string;
  email: string;
  name: string;
  points: number;
  role: Role;
  password: string;
}[] = [
  {
    id: '0190c0de-0000-7000-8000-0000000000a1',
    email: 'minji@example.com',
    name: 'Minji Kim',
    points: 50_000,
    role: 'customer',
    password: 'minji-demo-pass',
  },
  {
    id: '0190c0de-0000-7000-8000-0000000000a2',
    email: 'junho@example.com',
    name: 'Junho Lee',
    points: 20_000,
    role: 'customer',
    password: 'junho-demo-pass',
  },
  {
    id: '0190c0de-0000-7000-8000-0000000000a3',
    email: 'seoyeon@example.com',
    name: 'Seoyeon Park',
    points: 0,
    role: 'customer',
    password: 'seoyeon-demo-pass',
  },
  {
    id: DEMO_ADMIN_ID,
    email: 'admin@example.com',
    name: 'Shop Admin',
    points: 0,
    role: 'admin',
    password: 'admin-demo-pass',
  },
  {
    id: '0190c0de-0000-7000-8000-0000000000b2',
    email: 'ops@example.com',
    name: 'Shop Operations',
    points: 0,
    role: 'ops',
    password: 'ops-demo-pass',
  },
];

export async function seedUsers(em: EntityManager): Promise<void> {
  // Only the users without a password yet are hashed (each hash takes tens of milliseconds).
  const present = await em
    .fork()
    .find(
      UserEntity,
      { id: { $in: demoUsers.map((u) => u.id) }, passwordHash: { $ne: null } },
      { fields: ['id'] },
    );
  const hashed = new Set(present.map((r) => r.id));
  const hashes = new Map(
    await Promise.all(
      demoUsers
        .filter((u) => !hashed.has(u.id))
        .map(async (u) => [u.id, await hashPassword(u.password)] as const),
    ),
  );
  await em.fork().transactional(async (tx) => {
    for (const u of demoUsers) {
      const passwordHash = hashes.get(u.id);
      // A demo user loaded before sign-in existed gets its password and role now.
      if (passwordHash) await tx.nativeUpdate(UserEntity, { id: u.id }, { passwordHash, role: u.role });
      const now = new Date();
      const inserted = await tx
        .createQueryBuilder(UserEntity)
        .insert({
          id: u.id,
          email: u.email,
          name: u.name,
          role: u.role,
          passwordHash: passwordHash ?? null,
          createdAt: now,
        })
        .onConflict()
        .ignore()
        .execute('run');
      if (inserted.affectedRows === 0) continue;
      // Announced like any registration, so that other services' views (coupon's known users) have them.
      await announceRegistration(tx, u.id);
      await tx.insert(PointAccountEntity, { userId: u.id, balance: u.points, updatedAt: now });
      // The opening balance is a ledger entry too, so that the ledger always sums to the balance:
      // a grant of the demo admin's, as any points not paid for are.
      if (u.points > 0) {
        await tx.insert(PointLedgerEntity, {
          id: uuidv7(),
          userId: u.id,
          kind: 'GRANT',
          amount: u.points,
          balanceAfter: u.points,
          idempotencyKey: `seed:${u.id}`,
          reason: 'demo data',
          grantedBy: DEMO_ADMIN_ID,
          createdAt: now,
        });
      }
    }
  });
}
