import { Migration } from '@mikro-orm/migrations';

/**
 * Tables every service has: the transactional outbox, the consumer inbox and
 * the dead letters it received. They run before the service's own migrations.
 */
class PlatformTables extends Migration {
  override up(): void {
    this.addSql(`create table outbox (
      id uuid primary key,
      topic text not null,
      event_type text not null,
      subject text not null,
      event jsonb not null,
      created_at timestamptz not null default now(),
      published_at timestamptz,
      attempts integer not null default 0,
      last_error text
    )`);
    this.addSql('create index outbox_pending on outbox (id) where published_at is null');
    this.addSql(`create table inbox (
      consumer text not null,
      event_id text not null,
      processed_at timestamptz not null default now(),
      primary key (consumer, event_id)
    )`);
    this.addSql(`create table dead_letters (
      id uuid primary key,
      topic text not null,
      event_id text not null,
      event_type text,
      event jsonb not null,
      received_at timestamptz not null default now(),
      redriven_at timestamptz,
      unique (topic, event_id)
    )`);
  }
}

/**
 * Outbox claims: a relay leases rows (claimed_until, claimed_by) and publishes
 * them outside any transaction, so several relays can run and a dead one's
 * rows come free when its lease ends. The index finds each subject's oldest
 * pending row, which is the only one a relay may start on (order per aggregate).
 */
class OutboxClaims extends Migration {
  override up(): void {
    this.addSql('alter table outbox add column claimed_until timestamptz, add column claimed_by uuid');
    this.addSql('create index outbox_pending_subject on outbox (subject, id) where published_at is null');
  }
}

/**
 * What the retention sweep (retention/retention.ts) deletes, found by index:
 * partial where the timestamp is null while the row is in use.
 */
class RetentionIndexes extends Migration {
  override up(): void {
    this.addSql('create index inbox_processed_at on inbox (processed_at)');
    this.addSql('create index outbox_published_at on outbox (published_at) where published_at is not null');
    this.addSql(
      'create index dead_letters_redriven_at on dead_letters (redriven_at) where redriven_at is not null',
    );
  }
}

export const platformMigrations = [
  { name: '20261122-platform-outbox-inbox-dead-letters', class: PlatformTables },
  { name: '20261201-platform-outbox-claims', class: OutboxClaims },
  { name: '20261207-platform-retention-indexes', class: RetentionIndexes },
];
