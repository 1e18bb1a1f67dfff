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

class CreatePoints extends Migration {
  override up(): void {
    this.addSql(`create table point_accounts (
      user_id uuid primary key references users (id),
      balance bigint not null default 0 check (balance >= 0),
      updated_at timestamptz not null default now()
    )`);
    this.addSql('insert into point_accounts (user_id) select id from users');
    // Append-only. Each entry moves the balance by `amount` (signed). The idempotency
    // key makes a repeated charge a no-op; (order_id, kind) makes each saga step
    // happen once per order.
    this.addSql(`create table point_ledger (
      id uuid primary key,
      user_id uuid not null references point_accounts (user_id),
      kind text not null check (kind in ('CHARGE', 'USE', 'REFUND')),
      amount bigint not null,
      balance_after bigint not null check (balance_after >= 0),
      idempotency_key text not null unique,
      order_id uuid,
      created_at timestamptz not null default now()
    )`);
    this.addSql(
      'create unique index point_ledger_order_step on point_ledger (order_id, kind) where order_id is not null',
    );
    this.addSql('create index point_ledger_user on point_ledger (user_id, id)');
  }
}

class CreateNotifications extends Migration {
  override up(): void {
    this.addSql(`create table notifications (
      id uuid primary key,
      user_id uuid not null,
      order_id uuid,
      kind text not null,
      message text not null,
      created_at timestamptz not null default now()
    )`);
    this.addSql('create index notifications_user on notifications (user_id, created_at)');
  }
}

class ChargeRequestFingerprint extends Migration {
  override up(): void {
    // A charge's key is now scoped to its user, and its request's fingerprint kept with it.
    this.addSql('alter table point_ledger add column request_hash text');
  }
}

class SignIn extends Migration {
  override up(): void {
    // A user registered without a password (or before sign-in existed) cannot sign in until one is set.
    this.addSql('alter table users add column password_hash text');
    this.addSql(
      "alter table users add column role text not null default 'customer' check (role in ('customer', 'admin', 'ops'))",
    );
    // Only the SHA-256 of a refresh token's secret is kept; used ones stay revoked, to detect a reuse.
    this.addSql(`create table refresh_tokens (
      id uuid primary key,
      user_id uuid not null references users (id),
      token_hash text not null,
      expires_at timestamptz not null,
      revoked_at timestamptz,
      created_at timestamptz not null default now()
    )`);
    this.addSql('create index refresh_tokens_user on refresh_tokens (user_id) where revoked_at is null');
  }
}

class PaidTopUpsAndGrants extends Migration {
  override up(): void {
    // Points come in two ways only: a paid top-up, credited once per top-up after its capture
    // (the order service's top-up workflow), and an admin's or operator's grant, with its
    // reason and who gave it.
    this.addSql('alter table point_ledger add column top_up_id uuid unique');
    this.addSql('alter table point_ledger add column reason text');
    this.addSql('alter table point_ledger add column granted_by uuid');
    this.addSql('alter table point_ledger drop constraint point_ledger_kind_check');
    this.addSql(
      "alter table point_ledger add constraint point_ledger_kind_check check (kind in ('CHARGE', 'GRANT', 'USE', 'REFUND'))",
    );
    this.addSql(
      "alter table point_ledger add constraint point_ledger_grant_audited check (kind <> 'GRANT' or (reason is not null and granted_by is not null))",
    );
  }
}

class SignInBrake extends Migration {
  override up(): void {
    // Wrong passwords in a row per email (known or not), for the sign-in brake (auth/sign-in-brake.ts).
    this.addSql(`create table sign_in_failures (
      email text primary key,
      failures integer not null,
      last_failed_at timestamptz not null
    )`);
    this.addSql('create index sign_in_failures_age on sign_in_failures (last_failed_at)');
  }
}

export const migrations: NamedMigration[] = [
  { name: '20261122-user-001-users', class: CreateUsers },
  { name: '20261122-user-002-points', class: CreatePoints },
  { name: '20261122-user-003-notifications', class: CreateNotifications },
  { name: '20261129-user-004-charge-fingerprint', class: ChargeRequestFingerprint },
  { name: '20261129-user-005-sign-in', class: SignIn },
  { name: '20261207-user-006-paid-top-ups-and-grants', class: PaidTopUpsAndGrants },
  { name: '20261207-user-007-sign-in-brake', class: SignInBrake },
];
