import { api } from './api.ts';
import { addToCart } from './cart-view.ts';
import { every, fill, h } from './dom.ts';
import { won } from './words.ts';

export interface Product {
  id: string;
  name: string;
  price: number;
  stock: number;
  status: string;
}

const PAGE = 100;

/**
 * The newest products on sale, newest first (the catalog pages oldest first:
 * the last page, and the one before when the last is short). A shop with
 * more than this shows its newest 100 to 200.
 */
async function newestProducts(): Promise<Product[]> {
  const first = await api<{ items: Product[]; total: number }>('GET', `/products?size=${PAGE}&status=ACTIVE`);
  const last = Math.ceil(first.total / PAGE);
  if (last <= 1) return first.items;
  const pages = await Promise.all(
    [last - 1, last].map((n) =>
      api<{ items: Product[] }>('GET', `/products?size=${PAGE}&status=ACTIVE&page=${n}`),
    ),
  );
  return pages.flatMap((p) => p.items);
}

/**
 * The product list, its stock read again every two seconds (a drop, or other
 * buyers, move it while you look), and today's ranking every five.
 */
export function startCatalog(): void {
  const rows = new Map<string, { stock: HTMLElement; row: HTMLElement }>();
  const table = h('table', { class: 'products' });
  table.append(
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'Product'), h('th', {}, 'Price'), h('th', {}, 'In stock'), h('th', {})),
    ),
  );
  const body = h('tbody');
  table.append(body);
  fill('products', table);
  every(2000, async () => {
    for (const product of await newestProducts()) {
      let row = rows.get(product.id);
      if (!row) {
        const stock = h('td', { class: 'stock', 'data-testid': 'stock' });
        const tr = h(
          'tr',
          { 'data-product': product.name },
          h('td', {}, product.name),
          h('td', {}, won(product.price)),
          stock,
          h('td', {}, h('button', { type: 'button', onclick: () => void addToCart(product) }, 'Add to cart')),
        );
        body.prepend(tr);
        row = { stock, row: tr };
        rows.set(product.id, row);
      }
      row.stock.textContent = product.stock > 0 ? String(product.stock) : 'sold out';
      row.row.classList.toggle('sold-out', product.stock === 0);
    }
  });

  const ranking = h('ol', { class: 'ranking' });
  fill('ranking', ranking);
  every(5000, async () => {
    const top = await api<{ items: { rank: number; name: string | null; sold: number }[] }>(
      'GET',
      '/products/ranking?days=1&limit=5',
    );
    ranking.replaceChildren(
      ...(top.items.length
        ? top.items.map((t) => h('li', {}, `${t.name ?? 'a product'} `, h('small', {}, `${t.sold} sold`)))
        : [h('li', { class: 'muted' }, 'Nothing sold yet today.')]),
    );
  });
}
