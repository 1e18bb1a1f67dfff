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

class CreateCoupons extends Migration {
  override up(): void {
    this.addSql(`create table coupons (
      id uuid primary key,
      name text not null,
      discount_type text not null check (discount_type in ('FIXED', 'PERCENT')),
      discount_value bigint not null check (discount_value > 0),
      max_discount bigint check (max_discount > 0),
      quota integer not null check (quota >= 0),
      min_order_amount bigint not null default 0 check (min_order_amount >= 0),
      starts_at timestamptz not null,
      ends_at timestamptz not null check (ends_at > starts_at),
      created_at timestamptz not null default now()
    )`);
    // The durable record of every accepted request (written before the 202).
    this.addSql(`create table issue_requests (
      id uuid primary key,
      coupon_id uuid not null references coupons (id),
      user_id uuid not null,
      status text not null check (status in ('QUEUED', 'PROCESSING', 'COMPLETED', 'REJECTED')),
      reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql('create index issue_requests_coupon on issue_requests (coupon_id, status)');
    this.addSql(`create table user_coupons (
      id uuid primary key,
      coupon_id uuid not null references coupons (id),
      user_id uuid not null,
      request_id uuid not null unique references issue_requests (id),
      status text not null check (status in ('ISSUED', 'USED')),
      order_id uuid,
      issued_at timestamptz not null default now(),
      used_at timestamptz,
      unique (coupon_id, user_id)
    )`);
    this.addSql('create index user_coupons_user on user_coupons (user_id)');
    // One row per order that touched a coupon: the outcome of useCoupon, so that a
    // repeat is answered from here and a restore that came first blocks a late use.
    this.addSql(`create table coupon_uses (
      order_id uuid primary key,
      user_coupon_id uuid references user_coupons (id),
      status text not null check (status in ('USED', 'RESTORED')),
      discount bigint not null default 0,
      updated_at timestamptz not null default now()
    )`);
  }
}

class AddIssueLeases extends Migration {
  override up(): void {
    // A worker takes a request for a while (PROCESSING until lease_until) and
    // calls the quota actor with no transaction open; a request whose worker
    // died is taken again by any replica once the lease has run out.
    this.addSql('alter table issue_requests add column lease_until timestamptz');
    this.addSql(
      "create index issue_requests_pending on issue_requests (created_at) where status in ('QUEUED', 'PROCESSING')",
    );
  }
}

class AddIssuedSeats extends Migration {
  override up(): void {
    // The seats taken, counted in the transaction that issues: the last word on
    // the quota. The actor is the fast gate, but while placement moves it two
    // activations can overlap for a moment and both accept the last seat.
    this.addSql('alter table coupons add column issued integer not null default 0');
    // No check (issued <= quota): a coupon oversold before this migration must not block it.
    this.addSql(
      'update coupons c set issued = (select count(*) from user_coupons u where u.coupon_id = c.id)',
    );
  }
}

class AddIssueBatches extends Migration {
  override up(): void {
    // A worker takes requests in batches straight from this table (the queue):
    // batch_id names the worker's take, so that of two workers that both hold a
    // request (one's lease ran out) only the latest take may record its
    // decision; taken_by names the worker (host and port), so that a replica
    // restarted after a crash takes back at once what it held instead of
    // waiting out its leases; claimed_at is when a worker first took it (the
    // benchmark's "waiting" stage).
    this.addSql(
      'alter table issue_requests add column batch_id uuid, add column taken_by text, add column claimed_at timestamptz',
    );
  }
}

export const migrations: NamedMigration[] = [
  { name: '20261122-coupon-001-known-users', class: CreateKnownUsers },
  { name: '20261122-coupon-002-coupons-requests', class: CreateCoupons },
  { name: '20261201-coupon-003-issue-leases', class: AddIssueLeases },
  { name: '20261201-coupon-004-issued-seats', class: AddIssuedSeats },
  { name: '20261229-coupon-005-issue-batches', class: AddIssueBatches },
];
