import type { EntityManager } from '@shop/platform';
import { announceRegistration } from '../users/users.ts';

/** Users with points for the local platform; fixed ids, so loading them twice changes nothing. */
export const demoUsers = [
  {
    id: '0190c0de-0000-7000-8000-0000000000a1',
    email: 'minji@example.com',
    name: 'Minji Kim',
    points: 50_000,
  },
  {
    id: '0190c0de-0000-7000-8000-0000000000a2',
    email: 'junho@example.com',
    name: 'Junho Lee',
    points: 20_000,
  },
  {
    id: '0190c0de-0000-7000-8000-0000000000a3',
    email: 'seoyeon@example.com',
    name: 'Seoyeon Park',
    points: 0,
  },
];

export async function seedUsers(em: EntityManager): Promise<void> {
  await em.transactional(async (tx) => {
    for (const u of demoUsers) {
      const inserted = await tx.execute(
        'insert into users (id, email, name) values (?, ?, ?) on conflict do nothing returning id',
        [u.id, u.email, u.name],
      );
      if (inserted.length === 0) continue;
      // Announced like any registration, so that other services' views (coupon's known users) have them.
      await announceRegistration(tx, u.id);
      await tx.execute('insert into point_accounts (user_id, balance) values (?, ?)', [u.id, u.points]);
      // The opening balance is a ledger entry too, so that the ledger always sums to the balance.
      if (u.points > 0) {
        await tx.execute(
          "insert into point_ledger (id, user_id, kind, amount, balance_after, idempotency_key) values (gen_random_uuid(), ?, 'CHARGE', ?, ?, ?)",
          [u.id, u.points, u.points, `seed:${u.id}`],
        );
      }
    }
  });
}
