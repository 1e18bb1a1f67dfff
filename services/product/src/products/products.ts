import type { InferEntity } from '@mikro-orm/core';
import {
  addToOutbox,
  anyUuid,
  type EntityManager,
  NotFoundError,
  newEvent,
  type Page,
  type PageQuery,
  type Redis,
  uuidv7,
} from '@shop/platform';
import { db, ProductEntity, type ProductStatus, StockEntity } from '../db/entities.ts';
import { PRODUCT_EVENTS, ProductEventType } from '../events/topics.ts';

type Product = InferEntity<typeof ProductEntity>;

export interface ProductRecord {
  id: string;
  name: string;
  /** Integer KRW. */
  price: number;
  status: ProductStatus;
  stock: number;
  createdAt: string;
  updatedAt: string;
}

type CatalogRecord = Omit<ProductRecord, 'stock'>;

const toCatalog = (p: Product): CatalogRecord => ({
  id: p.id,
  name: p.name,
  price: Number(p.price),
  status: p.status,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

const cacheKey = (id: string) => `product:${id}`;
const CACHE_TTL_SECONDS = 300;

export class Products {
  private readonly em: EntityManager;
  private readonly redis: Redis;
  private readonly outboxWritten: () => void;

  constructor(em: EntityManager, redis: Redis, outboxWritten: () => void) {
    this.em = em;
    this.redis = redis;
    this.outboxWritten = outboxWritten;
  }

  private async stockOf(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    // Read live on every product read, the order service's pricing of each order too: Kysely (see stock.ts).
    const rows = await db(this.em.fork())
      .selectFrom('stocks')
      .select(['product_id', 'quantity'])
      .where('product_id', '=', anyUuid(ids))
      .execute();
    return new Map(rows.map((r) => [r.product_id, Number(r.quantity)]));
  }

  async list(query: PageQuery & { status?: ProductStatus }): Promise<Page<ProductRecord>> {
    const where = query.status ? { status: query.status } : {};
    const [products, total] = await this.em.fork().findAndCount(ProductEntity, where, {
      orderBy: { id: 'asc' },
      limit: query.size,
      offset: (query.page - 1) * query.size,
    });
    const stock = await this.stockOf(products.map((p) => p.id));
    return {
      items: products.map((p) => ({ ...toCatalog(p), stock: stock.get(p.id) ?? 0 })),
      page: query.page,
      size: query.size,
      total,
    };
  }

  /** Catalog data comes from the Redis cache when present; stock is always read live. */
  async get(id: string): Promise<ProductRecord> {
    let catalog: CatalogRecord | undefined;
    const cached = await this.redis.get(cacheKey(id)).catch(() => null);
    if (cached) {
      catalog = JSON.parse(cached) as CatalogRecord;
    } else {
      const product = await this.em.fork().findOne(ProductEntity, { id });
      if (!product) throw new NotFoundError('product', id);
      catalog = toCatalog(product);
      await this.redis
        .set(cacheKey(id), JSON.stringify(catalog), 'EX', CACHE_TTL_SECONDS)
        .catch(() => undefined);
    }
    const stock = await this.stockOf([id]);
    return { ...catalog, stock: stock.get(id) ?? 0 };
  }

  async create(input: {
    name: string;
    price: number;
    status: ProductStatus;
    stock: number;
  }): Promise<ProductRecord> {
    const id = uuidv7();
    await this.em.fork().transactional(async (tx) => {
      const now = new Date();
      tx.create(ProductEntity, {
        id,
        name: input.name,
        price: input.price,
        status: input.status,
        createdAt: now,
        updatedAt: now,
      });
      await tx.flush();
      await tx.insert(StockEntity, { productId: id, quantity: input.stock, updatedAt: now });
      await addToOutbox(
        tx,
        newEvent({
          topic: PRODUCT_EVENTS,
          type: ProductEventType.ProductCreated,
          source: 'product',
          subject: id,
          data: { productId: id },
        }),
      );
    });
    this.outboxWritten();
    return this.get(id);
  }

  /** Updates name, price or status; the cached copy is dropped after the commit. */
  async update(
    id: string,
    changes: { name?: string; price?: number; status?: ProductStatus },
  ): Promise<ProductRecord> {
    await this.em.fork().transactional(async (tx) => {
      const product = await tx.findOne(ProductEntity, { id });
      if (!product) throw new NotFoundError('product', id);
      Object.assign(product, changes, { updatedAt: new Date() });
      await tx.flush();
      await addToOutbox(
        tx,
        newEvent({
          topic: PRODUCT_EVENTS,
          type: ProductEventType.ProductUpdated,
          source: 'product',
          subject: id,
          data: { productId: id, changed: Object.keys(changes) },
        }),
      );
    });
    // If Redis is away the cached copy expires on its own (CACHE_TTL_SECONDS).
    await this.redis.del(cacheKey(id)).catch(() => undefined);
    this.outboxWritten();
    return this.get(id);
  }

  async names(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const products = await this.em.fork().find(ProductEntity, { id: { $in: ids } });
    return new Map(products.map((p) => [p.id, p.name]));
  }
}
