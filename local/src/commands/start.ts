import { LOGS } from '../paths.ts';
import { withPlatform } from '../run-platform.ts';
import {
  control,
  gateway,
  kafka,
  placement,
  postgres,
  redis,
  replicasOf,
  scheduler,
  sentry,
  serviceList,
  zipkin,
} from '../topology.ts';
import { say, table } from '../ui.ts';

const withoutPassword = (url: string) => {
  const shown = new URL(url);
  shown.password = '';
  return shown.toString();
};

function printAddresses(withServices: boolean): void {
  const rows = [
    ['part', 'address', 'note'],
    [
      'postgres',
      withoutPassword(postgres.adminUrl),
      'one database per service: shop_<service>; password: .shop/keys',
    ],
    ['redis', withoutPassword(redis.url), 'password: .shop/keys'],
    ['kafka', kafka.brokers, 'KRaft, single node'],
    ['placement', `127.0.0.1:${placement.port}`, ''],
    ['scheduler', `127.0.0.1:${scheduler.port}`, ''],
    ['sentry', `127.0.0.1:${sentry.port}`, 'mTLS certificates of every sidecar (access control checks them)'],
    [
      'zipkin',
      `${zipkin.url}/zipkin/`,
      `traces (sampling ${zipkin.samplingRate}): find an order by its log line's traceId, or by service and span name`,
    ],
  ];
  if (withServices) {
    rows.push([
      'gateway',
      gateway.appUrl,
      'THE address to use: sign in (POST /auth/login), then send Authorization: Bearer <token>',
    ]);
    for (const s of serviceList.flatMap((first) => replicasOf(first.service))) {
      rows.push([
        s.name,
        s.appUrl,
        `sidecar ${s.daprUrl} (grpc ${s.daprGrpcPort}); metrics ${s.appUrl}/metrics, the sidecar's http://127.0.0.1:${s.daprMetricsPort}/metrics`,
      ]);
    }
  }
  rows.push([
    'control',
    control.url,
    'GET /processes, POST /processes/<name>/stop|start; x-control-token: .shop/keys/control-token',
  ]);
  console.log(`\n${table(rows)}\n\nlogs: ${LOGS}/<name>.log\n`);
  if (withServices) {
    say(`the storefront page: ${gateway.appUrl}/ (sign in as a demo user; see docs/storefront.md)`);
    say(
      `use the gateway: ${gateway.appUrl} (the services' ports and sidecars, for debugging, want the tokens in .shop/keys: docs/security.md)`,
    );
  }
}

/** `npm start` (`start`: everything; `infra`: the infrastructure only): runs until Ctrl-C. */
export function start(command: 'start' | 'infra', consoleArgs: string[]): Promise<number> {
  return withPlatform(
    command === 'start',
    async () => {
      printAddresses(command === 'start');
      say('ready. Ctrl-C stops everything.');
      await new Promise(() => undefined);
      return 0;
    },
    'run',
    consoleArgs,
  );
}
