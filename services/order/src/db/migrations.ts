import { Migration } from '@mikro-orm/migrations';
import type { NamedMigration } from '@shop/platform';

class CreateOrders extends Migration {
  override up(): void {
    this.addSql(`create table orders (
      id uuid primary key,
      user_id uuid not null,
      status text not null check (status in ('PENDING', 'COMPLETED', 'FAILED', 'NEEDS_ATTENTION')),
      coupon_id uuid,
      points_to_use bigint not null default 0 check (points_to_use >= 0),
      total_amount bigint not null check (total_amount >= 0),
      discount bigint not null default 0 check (discount >= 0),
      failure_reason text,
      idempotency_key text unique,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql('create index orders_user on orders (user_id, id)');
    // Name and unit price copied in at order time: no cross-service joins later.
    this.addSql(`create table order_items (
      order_id uuid not null references orders (id),
      product_id uuid not null,
      product_name text not null,
      unit_price bigint not null check (unit_price >= 0),
      quantity integer not null check (quantity > 0),
      primary key (order_id, product_id)
    )`);
    // The saga's progress, one row per step, for GET /orders/:id and its stream.
    this.addSql(`create table order_steps (
      order_id uuid not null references orders (id),
      position integer not null,
      step text not null,
      state text not null check (state in ('pending', 'running', 'done', 'failed', 'compensating', 'compensated', 'skipped')),
      detail text,
      updated_at timestamptz not null default now(),
      primary key (order_id, step)
    )`);
  }
}

class ExactAmountsAndScopedKeys extends Migration {
  override up(): void {
    // The points the saga took (at most total - discount), set before the payment.
    this.addSql(
      'alter table orders add column points_used bigint not null default 0 check (points_used >= 0)',
    );
    // An Idempotency-Key belongs to one user, and to one request (its body's fingerprint).
    this.addSql('alter table orders add column request_hash text');
    this.addSql('alter table orders drop constraint orders_idempotency_key_key');
    this.addSql(
      'create unique index orders_user_idempotency_key on orders (user_id, idempotency_key) where idempotency_key is not null',
    );
    // How many times each step was tried: a step being retried shows it in the progress view.
    this.addSql('alter table order_steps add column attempts integer not null default 0');
  }
}

class WorkflowRuns extends Migration {
  override up(): void {
    // The saga instance that drives the order: the order's id for its first run, a new id when
    // the reconciler runs it again (Dapr does not run a new instance under a purged id reliably).
    this.addSql('alter table orders add column workflow_id text');
  }
}

class StepProblemTypes extends Migration {
  override up(): void {
    // A refused step keeps the refusal's problem type next to its detail: the progress view
    // says "out of stock" from the type, not by reading another service's sentence.
    this.addSql('alter table order_steps add column problem_type text');
  }
}

class TopUps extends Migration {
  override up(): void {
    // A customer's paid top-up of points: its payment goes through the payment service, and
    // the points are credited (user service) only once it is captured (saga/top-up.workflow.ts).
    this.addSql(`create table top_ups (
      id uuid primary key,
      user_id uuid not null,
      amount bigint not null check (amount > 0),
      status text not null check (status in ('PENDING', 'COMPLETED', 'FAILED')),
      failure_reason text,
      idempotency_key text,
      request_hash text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql('create index top_ups_user on top_ups (user_id, id)');
    this.addSql(
      'create unique index top_ups_user_idempotency_key on top_ups (user_id, idempotency_key) where idempotency_key is not null',
    );
    this.addSql("create index top_ups_pending on top_ups (created_at) where status = 'PENDING'");
  }
}

class OrderExports extends Migration {
  override up(): void {
    // Each completed order's record for the data platform, queued by the OrderCompleted consumer
    // and sent by the exporter (export/exporter.ts): PENDING until the platform took it, DEAD
    // when its attempts ran out or the platform refused it (an operator re-drives it).
    this.addSql(`create table order_exports (
      order_id uuid primary key references orders (id),
      record jsonb not null,
      status text not null default 'PENDING' check (status in ('PENDING', 'SENT', 'DEAD')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    )`);
    // The exporter's claims and the backlog's count read only what is not sent.
    this.addSql(
      "create index order_exports_unsent on order_exports (status, next_attempt_at) where status in ('PENDING', 'DEAD')",
    );
  }
}

class OrdersFromCarts extends Migration {
  override up(): void {
    // Placed from the buyer's cart (product service): its OrderCompleted says so, and the
    // product service then takes what was bought out of the cart.
    this.addSql('alter table orders add column from_cart boolean not null default false');
  }
}

class SentExportsRetention extends Migration {
  override up(): void {
    // A sent record is deleted after EXPORT_RETENTION_HOURS (the platform's retention sweep).
    this.addSql('create index order_exports_sent_at on order_exports (sent_at) where sent_at is not null');
  }
}

class TopUpsNeedingAttention extends Migration {
  override up(): void {
    // Paid, and the points refused (saga/top-up.workflow.ts): an operator's case, not a retry forever.
    this.addSql('alter table top_ups drop constraint top_ups_status_check');
    this.addSql(`alter table top_ups add constraint top_ups_status_check
      check (status in ('PENDING', 'COMPLETED', 'FAILED', 'NEEDS_ATTENTION'))`);
  }
}

export const migrations: NamedMigration[] = [
  { name: '20261122-order-001-orders', class: CreateOrders },
  { name: '20261129-order-002-exact-amounts-scoped-keys', class: ExactAmountsAndScopedKeys },
  { name: '20261129-order-003-workflow-runs', class: WorkflowRuns },
  { name: '20261129-order-004-step-problem-types', class: StepProblemTypes },
  { name: '20261207-order-005-top-ups', class: TopUps },
  { name: '20261207-order-006-order-exports', class: OrderExports },
  { name: '20261207-order-007-orders-from-carts', class: OrdersFromCarts },
  { name: '20261207-order-008-sent-exports-retention', class: SentExportsRetention },
  { name: '20261208-order-009-top-ups-needing-attention', class: TopUpsNeedingAttention },
];
