import { Migration } from '@mikro-orm/migrations';
import type { NamedMigration } from '@shop/platform';

class CreatePayments extends Migration {
  override up(): void {
    this.addSql(`create table payments (
      order_id uuid primary key,
      amount bigint not null check (amount >= 0),
      status text not null check (status in ('STARTED', 'COMPLETED', 'CANCELLED', 'FAILED')),
      failure_reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
  }
}

/** PENDING: the row is written before the gateway is called. */
class AddPendingStatus extends Migration {
  override up(): void {
    this.addSql('alter table payments drop constraint payments_status_check');
    this.addSql(`alter table payments add constraint payments_status_check
      check (status in ('PENDING', 'STARTED', 'COMPLETED', 'CANCELLED', 'FAILED'))`);
  }
}

export const migrations: NamedMigration[] = [
  { name: '20261122-payment-001-payments', class: CreatePayments },
  { name: '20261201-payment-002-pending', class: AddPendingStatus },
];
