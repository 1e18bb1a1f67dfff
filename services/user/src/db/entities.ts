import { defineEntity, p } from '@mikro-orm/core';
import type { InferKyselyDB } from '@mikro-orm/postgresql';
import type { EntityManager, Role } from '@shop/platform';

/** The tables of migrations.ts as MikroORM sees them; the columns' names are the migrations'. */

/** CHARGE: a paid top-up; GRANT: given by an admin or an operator; USE and REFUND: an order's. */
export type LedgerKind = 'CHARGE' | 'GRANT' | 'USE' | 'REFUND';

export const UserEntity = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    email: p.string().unique(),
    name: p.string(),
    passwordHash: p.string().nullable().fieldName('password_hash'),
    role: p.string().$type<Role>().default('customer'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
  },
});

/** A user's points balance: it moves only with a ledger entry, never below zero. */
export const PointAccountEntity = defineEntity({
  name: 'PointAccount',
  tableName: 'point_accounts',
  properties: {
    userId: p.uuid().primary().fieldName('user_id'),
    balance: p.bigint('number').default(0),
    updatedAt: p.datetime().defaultRaw('now()').fieldName('updated_at'),
  },
});

/** Append-only: each entry moves the balance by `amount` (signed). */
export const PointLedgerEntity = defineEntity({
  name: 'PointLedgerEntry',
  tableName: 'point_ledger',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().fieldName('user_id'),
    kind: p.string().$type<LedgerKind>(),
    amount: p.bigint('number'),
    balanceAfter: p.bigint('number').fieldName('balance_after'),
    idempotencyKey: p.string().unique().fieldName('idempotency_key'),
    requestHash: p.string().nullable().fieldName('request_hash'),
    orderId: p.uuid().nullable().fieldName('order_id'),
    topUpId: p.uuid().nullable().fieldName('top_up_id'),
    /** A grant's reason and who gave it. */
    reason: p.string().nullable(),
    grantedBy: p.uuid().nullable().fieldName('granted_by'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
  },
});

export const NotificationEntity = defineEntity({
  name: 'Notification',
  tableName: 'notifications',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().fieldName('user_id'),
    orderId: p.uuid().nullable().fieldName('order_id'),
    kind: p.string(),
    message: p.string(),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
  },
});

/** Only the SHA-256 of a refresh token's secret is kept; used ones stay revoked, to detect a reuse. */
export const RefreshTokenEntity = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().fieldName('user_id'),
    tokenHash: p.string().fieldName('token_hash'),
    expiresAt: p.datetime().fieldName('expires_at'),
    revokedAt: p.datetime().nullable().fieldName('revoked_at'),
    createdAt: p.datetime().defaultRaw('now()').fieldName('created_at'),
  },
});

/** Wrong passwords in a row per email (known or not), for the sign-in brake. */
export const SignInFailureEntity = defineEntity({
  name: 'SignInFailure',
  tableName: 'sign_in_failures',
  properties: {
    email: p.string().primary(),
    failures: p.integer(),
    lastFailedAt: p.datetime().fieldName('last_failed_at'),
  },
});

export const userEntities = [
  UserEntity,
  PointAccountEntity,
  PointLedgerEntity,
  NotificationEntity,
  RefreshTokenEntity,
  SignInFailureEntity,
];

/** The user service's tables for Kysely (em.getKysely<UserDb>()): typed by the entities above. */
export type UserDb = InferKyselyDB<
  | typeof UserEntity
  | typeof PointAccountEntity
  | typeof PointLedgerEntity
  | typeof NotificationEntity
  | typeof RefreshTokenEntity
  | typeof SignInFailureEntity
>;

/** Kysely bound to `em` (and so to its transaction), for what em cannot say in one statement. */
export const db = (em: EntityManager) => em.getKysely<UserDb>();
