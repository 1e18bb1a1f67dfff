/**
 * Prints the system's invariants against the running local platform:
 *   npm run check:invariants
 * Exits 1 when any is violated.
 */
import { services } from '../src/topology.ts';
import { checkInvariants } from './invariants.ts';

const report = await checkInvariants(undefined, { workflowsVia: services.order.daprUrl });
console.log(
  `orders: ${report.orders} (${report.completed} completed, ${report.failed} failed, ${report.needsAttention} needing attention, ${report.orders - report.completed - report.failed - report.needsAttention} other)`,
);
if (report.violations.length === 0) {
  console.log(
    'invariants: every order ended, its workflow agreeing; no stock moved for an order that did not end; every outbox event published; the records of each service (stock movements, payments and captures, points ledger, coupon uses) reconcile with its orders; ledgers sum to balances; no coupon oversold',
  );
} else {
  console.log(`VIOLATIONS (${report.violations.length}):\n- ${report.violations.join('\n- ')}`);
  process.exit(1);
}
