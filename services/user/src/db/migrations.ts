import { Migration } from '@mikro-orm/migrations';
import type { NamedMigration } from '@shop/platform';

class CreateUsers extends Migration {
  override up(): void {
    this.addSql(`create table users (
      id uuid primary key,
      email text not null unique,
      name text not null,
      created_at timestamptz not null default now()
    )`);
  }
}

export const migrations: NamedMigration[] = [{ name: '20261122-user-001-users', class: CreateUsers }];
