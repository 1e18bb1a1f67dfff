import { withPlatform } from '../run-platform.ts';
import { postgres, redis } from '../topology.ts';

/**
 * What the integration and end-to-end suites run against, started by their
 * own globalSetup (jest.config.js), so that `npx jest <file>` works as
 * `npm test` does: the infrastructure (Postgres, Redis, Kafka, the Dapr
 * control plane) for `infra`, and the services with their sidecars in test
 * mode as well for `platform`. One per Jest run, kept on globalThis because
 * each suite's setup and the teardown are loaded as modules of their own.
 */
type Needs = 'infra' | 'platform';
interface Started {
  needs: Needs;
  release: () => void;
  ended: Promise<number>;
}
const KEY = Symbol.for('shop.jest.platform');
const run = globalThis as { [KEY]?: Started };

export async function ensurePlatform(asked: Needs): Promise<void> {
  // `npm test` runs integration and e2e in one Jest run: the first setup starts it all.
  const needs = process.env.SHOP_TEST_PLATFORM === 'full' ? 'platform' : asked;
  const started = run[KEY];
  if (started && (started.needs === 'platform' || needs === 'infra')) return;
  // The infrastructure alone is running (the integration suite's setup came first): start it all.
  if (started) await stopPlatform();
  let ready!: () => void;
  let release!: () => void;
  const up = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const ended = withPlatform(
    needs === 'platform',
    async () => {
      ready();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return 0;
    },
    'test',
  );
  const failed = await Promise.race([up.then(() => undefined), ended]);
  if (failed !== undefined)
    throw new Error('the platform did not start (the reason is above; logs in .shop/logs)');
  run[KEY] = { needs, release, ended };
  process.env.SHOP_TEST_POSTGRES_URL ??= postgres.adminUrl;
  process.env.SHOP_TEST_REDIS_URL ??= redis.url;
}

export async function stopPlatform(): Promise<void> {
  const started = run[KEY];
  if (!started) return;
  delete run[KEY];
  started.release();
  await started.ended;
}
