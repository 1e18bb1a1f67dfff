import { Migration } from '@mikro-orm/migrations';
import type { NamedMigration } from '@shop/platform';

class CreateCatalogAndStock extends Migration {
  override up(): void {
    this.addSql(`create table products (
      id uuid primary key,
      name text not null,
      price bigint not null check (price >= 0),
      status text not null check (status in ('ACTIVE', 'INACTIVE')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql('create index products_status on products (status, id)');
    this.addSql(`create table stocks (
      product_id uuid primary key references products (id),
      quantity bigint not null check (quantity >= 0),
      updated_at timestamptz not null default now()
    )`);
    // One row per order that touched stock: the outcome of the step, so that a
    // repeat is answered from here and a restore that came first blocks a late deduct.
    this.addSql(`create table stock_reservations (
      order_id uuid primary key,
      status text not null check (status in ('DEDUCTED', 'RESTORED')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql(`create table stock_movements (
      id uuid primary key,
      order_id uuid not null,
      product_id uuid not null references products (id),
      kind text not null check (kind in ('DEDUCT', 'RESTORE')),
      quantity bigint not null check (quantity > 0),
      created_at timestamptz not null default now(),
      unique (order_id, product_id, kind)
    )`);
  }
}

class Carts extends Migration {
  override up(): void {
    // One cart per user (seed 000: the cart belongs with the products): a line per product.
    // A line outlives its product's withdrawal, and is shown as unavailable.
    this.addSql(`create table cart_lines (
      user_id uuid not null,
      product_id uuid not null references products (id),
      quantity integer not null check (quantity between 1 and 1000),
      added_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (user_id, product_id)
    )`);
  }
}

export const migrations: NamedMigration[] = [
  { name: '20261122-product-001-catalog-stock', class: CreateCatalogAndStock },
  { name: '20261207-product-002-carts', class: Carts },
];
