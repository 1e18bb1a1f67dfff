import './style.css';
import { refreshAccount, startAccount } from './account-view.ts';
import { refreshCart, renderCart, startCart } from './cart-view.ts';
import { startCatalog } from './catalog-view.ts';
import { onCouponGranted, startCoupons } from './coupons-view.ts';
import { fill, h } from './dom.ts';
import { onOrderEnded } from './order-view.ts';
import { onSessionChange } from './session.ts';
import { renderSession } from './session-view.ts';

renderSession();
renderCart();
fill('order', h('p', { class: 'muted' }, 'Place an order to watch its saga step by step.'));
startCatalog();
startCoupons();
startAccount();
startCart();
onSessionChange(() => {
  renderSession();
  renderCart();
  void refreshAccount();
  void refreshCart();
});
onOrderEnded(() => {
  void refreshAccount();
  void refreshCart();
});
onCouponGranted(() => void refreshAccount());
