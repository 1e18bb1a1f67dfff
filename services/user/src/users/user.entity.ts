import { defineEntity, p } from '@mikro-orm/core';

export const UserEntity = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    email: p.string().unique(),
    name: p.string(),
    passwordHash: p.string().nullable().fieldName('password_hash'),
    role: p.string().default('customer'),
    createdAt: p.datetime().fieldName('created_at'),
  },
});
