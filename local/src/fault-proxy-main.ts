/** The fault proxy's process (started by the runner for `npm run chaos`): the links from FAULT_PROXY_LINKS. */
import { type LinkSpec, startFaultProxy } from './fault-proxy.ts';

const links = JSON.parse(process.env.FAULT_PROXY_LINKS ?? '[]') as LinkSpec[];
const proxy = await startFaultProxy(
  links,
  process.env.HOST ?? '127.0.0.1',
  Number(process.env.FAULT_PROXY_CONTROL_PORT),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => void proxy.close().then(() => process.exit(0)));
