/**
 * Waits until every host:port accepts a TCP connection, then exits 0 (1 after
 * the timeout, naming what never answered):
 *   node services/platform/src/bin/wait-for.ts --timeout=300 postgres-user:5432 kafka:9092
 * The chart's init container: daprd exits when a component cannot reach Kafka or
 * Redis as it starts, so a pod's containers start only once they answer.
 */
import { parseArgs } from 'node:util';
import { parseAddress, waitForTcp } from '../net/wait-for-tcp.ts';

const { values, positionals } = parseArgs({
  options: { timeout: { type: 'string', default: '300' } },
  allowPositionals: true,
});
try {
  const addresses = positionals.map(parseAddress);
  await waitForTcp(addresses, {
    timeoutMs: Number(values.timeout) * 1000,
    onWaiting: (pending) => process.stdout.write(`waiting for ${pending.join(', ')}\n`),
  });
  process.stdout.write(`answering: ${positionals.join(', ')}\n`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
