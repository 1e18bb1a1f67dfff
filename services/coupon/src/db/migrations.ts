import { Migration } from '@mikro-orm/migrations';
import type { NamedMigration } from '@shop/platform';

class CreateKnownUsers extends Migration {
  override up(): void {
    // The coupon service's own view of which users exist, fed by UserRegistered,
    // so that a coupon request from an unknown user is refused without a call to
    // the user service in the middle of a spike.
    this.addSql(`create table known_users (
      user_id uuid primary key,
      registered_at timestamptz not null,
      source_event_id text not null
    )`);
  }
}

export const migrations: NamedMigration[] = [
  { name: '20261122-coupon-001-known-users', class: CreateKnownUsers },
];
