import { defineEntity, p } from '@mikro-orm/core';

export const ProductStatus = { ACTIVE: 'ACTIVE', INACTIVE: 'INACTIVE' } as const;
export type ProductStatus = (typeof ProductStatus)[keyof typeof ProductStatus];

export const ProductEntity = defineEntity({
  name: 'Product',
  tableName: 'products',
  properties: {
    id: p.uuid().primary(),
    name: p.string(),
    price: p.bigint('number'),
    status: p.string().$type<ProductStatus>(),
    createdAt: p.datetime().fieldName('created_at'),
    updatedAt: p.datetime().fieldName('updated_at'),
  },
});
