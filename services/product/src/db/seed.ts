import type { EntityManager } from '@shop/platform';
import { ProductEntity, ProductStatus, StockEntity } from './entities.ts';

/** A small catalog with stock for the local platform; fixed ids, so loading it twice changes nothing. */
export const demoProducts = [
  { id: '0190c0de-0000-7000-8000-000000000001', name: 'Mechanical keyboard', price: 129_000, stock: 100 },
  { id: '0190c0de-0000-7000-8000-000000000002', name: 'Wireless mouse', price: 39_000, stock: 200 },
  { id: '0190c0de-0000-7000-8000-000000000003', name: '27-inch monitor', price: 329_000, stock: 50 },
  { id: '0190c0de-0000-7000-8000-000000000004', name: 'USB-C hub', price: 59_000, stock: 150 },
  { id: '0190c0de-0000-7000-8000-000000000005', name: 'Laptop stand', price: 45_000, stock: 80 },
  {
    id: '0190c0de-0000-7000-8000-000000000006',
    name: 'Noise-cancelling headphones',
    price: 299_000,
    stock: 30,
  },
  { id: '0190c0de-0000-7000-8000-000000000007', name: 'Webcam 1080p', price: 79_000, stock: 60 },
  { id: '0190c0de-0000-7000-8000-000000000008', name: 'Desk lamp', price: 35_000, stock: 120 },
];

/** Each table's rows in one insert; a row already there is kept as it is. */
export async function seedCatalog(em: EntityManager): Promise<void> {
  const now = new Date();
  await em.fork().transactional(async (tx) => {
    await tx
      .createQueryBuilder(ProductEntity)
      .insert(
        demoProducts.map((p) => ({
          id: p.id,
          name: p.name,
          price: p.price,
          status: ProductStatus.ACTIVE,
          createdAt: now,
          updatedAt: now,
        })),
      )
      .onConflict()
      .ignore()
      .execute();
    await tx
      .createQueryBuilder(StockEntity)
      .insert(demoProducts.map((p) => ({ productId: p.id, quantity: p.stock, updatedAt: now })))
      .onConflict()
      .ignore()
      .execute();
  });
}
