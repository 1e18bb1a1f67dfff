import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The admin URL of the Postgres server `npm test` started (or was given). */
export function adminUrl(): string {
  const url = process.env.SHOP_TEST_POSTGRES_URL;
  if (!url) throw new Error('SHOP_TEST_POSTGRES_URL is not set: run integration tests through `npm test`');
  return url;
}

/** A fresh database for one test file, dropped afterwards. */
export async function createTestDatabase(
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `test_${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
