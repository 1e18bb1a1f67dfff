import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MikroORM } from '@mikro-orm/postgresql';
import { consumeOnce, initOrm, migrate } from '../src/index.ts';
import { createTestDatabase } from '../src/testing/index.ts';

let orm: MikroORM;
let drop: () => Promise<void>;

beforeAll(async () => {
  const db = await createTestDatabase('inbox');
  drop = db.drop;
  orm = await initOrm({ clientUrl: db.url });
  await migrate(orm);
  await orm.em.fork().execute('create table effects (id serial primary key, event_id text not null)');
});

afterAll(async () => {
  await orm.close();
  await drop();
});

const effectCount = async (eventId: string) =>
  Number(
    (
      await orm.em
        .fork()
        .execute<{ n: string }[]>('select count(*) as n from effects where event_id = ?', [eventId])
    )[0]?.n,
  );

describe('inbox', () => {
  test('When the same event is delivered twice, then its effect happens once', async () => {
    const apply = () =>
      consumeOnce(orm.em, 'test.consumer', 'evt-1', async (tx) => {
        await tx.execute('insert into effects (event_id) values (?)', ['evt-1']);
      });
    expect(await apply()).toBe(true);
    expect(await apply()).toBe(false);
    expect(await effectCount('evt-1')).toBe(1);
  });

  test('When the effect fails, then nothing is recorded and a redelivery applies it', async () => {
    await expect(
      consumeOnce(orm.em, 'test.consumer', 'evt-2', async (tx) => {
        await tx.execute('insert into effects (event_id) values (?)', ['evt-2']);
        throw new Error('downstream unavailable');
      }),
    ).rejects.toThrow('downstream unavailable');
    expect(await effectCount('evt-2')).toBe(0);

    const applied = await consumeOnce(orm.em, 'test.consumer', 'evt-2', async (tx) => {
      await tx.execute('insert into effects (event_id) values (?)', ['evt-2']);
    });
    expect(applied).toBe(true);
    expect(await effectCount('evt-2')).toBe(1);
  });

  test('When two consumers handle the same event, then each applies it once', async () => {
    const apply = (consumer: string) =>
      consumeOnce(orm.em, consumer, 'evt-3', async (tx) => {
        await tx.execute('insert into effects (event_id) values (?)', ['evt-3']);
      });
    expect(await apply('a')).toBe(true);
    expect(await apply('b')).toBe(true);
    expect(await effectCount('evt-3')).toBe(2);
  });
});
