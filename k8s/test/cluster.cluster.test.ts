/**
 * charts/shop on a real kind cluster (k8s/kind/up.sh, as a user runs it:
 * Kubernetes 1.34, Dapr's control plane from its chart with its default
 * values, the images built from services/Dockerfile and loaded with
 * `kind load`): pods and sidecars, migrations, the saga and its
 * compensation through the cluster's Services and sidecars, a coupon burst,
 * an order pod deleted mid-saga, the Redis pod’s network cut for 20 s, the
 * k6 Job, a helm upgrade with orders in flight and helm test. `npm run test:cluster` brings the cluster up first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { checkSpike, waitUntilResolved } from '@shop/testkit';
import type pg from 'pg';
import {
  call,
  closeForwards,
  connectAs,
  database,
  eventually,
  gatewayUrl,
  kubectl,
  kubectlJson,
  NAMESPACE,
  runInGatewayPod,
  runInProbePod,
  SERVICES,
  type Service,
  secretValue,
  servicePodsSettled,
  serviceUrls,
  shopApi,
} from './cluster.ts';

jest.setTimeout(600_000);

const ROOT = join(import.meta.dirname, '..', '..');
let url: Record<Service, string>;
let api: ReturnType<typeof shopApi>;
const databases: Partial<Record<Service, pg.Pool>> = {};
const db = async (service: Service) => {
  databases[service] ??= await database(service);
  return databases[service]!;
};

/** Port-forwards follow one pod: after a pod is replaced they are opened again. */
async function connect() {
  closeForwards();
  for (const service of Object.keys(databases) as Service[]) {
    await databases[service]?.end();
    delete databases[service];
  }
  url = await serviceUrls();
  api = shopApi(url);
}

beforeAll(connect);

afterAll(async () => {
  await Promise.all(Object.values(databases).map((p) => p?.end()));
  closeForwards();
});

/** Six orders whose payment takes 3 s: their sagas are mid-way for a while. */
async function sagasInFlight(): Promise<{ productId: string; orders: string[] }> {
  const productId = await api.newProduct(10_000, 50);
  const users = await Promise.all(Array.from({ length: 6 }, () => api.newUser(0)));
  const orders = await Promise.all(
    users.map((userId) =>
      api.placeOrder({ userId, items: [{ productId, quantity: 1 }] }, { 'x-fake-gateway': 'slow:3000' }),
    ),
  );
  return { productId, orders };
}

async function expectAllCompleted(productId: string, orders: string[]): Promise<void> {
  const ended = await Promise.all(orders.map((id) => api.settled(id, 300_000)));
  expect(ended.map((o) => o.status)).toEqual(orders.map(() => 'COMPLETED'));
  expect(await api.stockOf(productId)).toBe(50 - orders.length);
}

const stepStates = (order: any) => Object.fromEntries(order.steps.map((s: any) => [s.step, s.state]));

describe('charts/shop on a kind cluster made by k8s/kind/up.sh', () => {
  test('Every pod is Ready, and each service pod runs the daprd container Dapr’s injector added', () => {
    const pods = kubectlJson('get', 'pods').items;
    for (const service of SERVICES) {
      const mine = pods.filter((p: any) => p.metadata.labels['app.kubernetes.io/name'] === service);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      for (const pod of mine) {
        expect(pod.spec.containers.map((c: any) => c.name).sort()).toEqual(['app', 'daprd']);
        expect(
          pod.metadata.annotations['dapr.io/sidecar-injected'] ?? pod.spec.containers[1].image,
        ).toBeTruthy();
        expect(pod.status.containerStatuses.every((c: any) => c.ready)).toBe(true);
      }
    }
    const notReady = pods.filter(
      (p: any) =>
        p.status.phase !== 'Succeeded' &&
        !p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
    );
    expect(notReady.map((p: any) => p.metadata.name)).toEqual([]);
  });

  test('Through the gateway, a demo user signs in with the key from the chart’s Secret; no token is a 401, a saga step a 403', async () => {
    const gateway = await gatewayUrl();
    const signedIn = await call('POST', `${gateway}/auth/login`, {
      email: 'minji@example.com',
      password: 'minji-demo-pass',
    });
    expect(signedIn.status).toBe(200);
    const me = signedIn.body.userId;
    const auth = { authorization: `Bearer ${signedIn.body.accessToken}` };
    expect((await call('GET', `${gateway}/users/${me}/points`, undefined, auth)).body).toMatchObject({
      userId: me,
    });
    expect((await call('GET', `${gateway}/users/${me}/points`)).status).toBe(401);
    expect(
      (await call('POST', `${gateway}/saga/points/refund`, { orderId: me, userId: me }, auth)).status,
    ).toBe(403);
  });

  test('On the host, http://127.0.0.1:3100 (k8s/kind/cluster.yaml’s port mapping to the gateway’s NodePort) serves the storefront page and the catalog', async () => {
    const page = await fetch('http://127.0.0.1:3100/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const products = await call('GET', 'http://127.0.0.1:3100/products');
    expect(products.status).toBe(200);
    expect(products.body.items.length).toBeGreaterThan(0);
  });

  test('Inside the cluster, a sidecar wants its token, access control keeps the gateway from a saga step, and a service’s port answers only its sidecar: the network keeps other pods off it, its token whoever gets through', async () => {
    // Run in the gateway's own pod, as the gateway would call: its daprd on localhost, its token in its env.
    const script = `
      const dapr = 'http://127.0.0.1:' + (process.env.DAPR_HTTP_PORT ?? 3500);
      const token = { 'dapr-api-token': process.env.DAPR_API_TOKEN };
      const json = { 'content-type': 'application/json' };
      const body = JSON.stringify({ orderId: crypto.randomUUID(), userId: crypto.randomUUID() });
      // A NetworkPolicy's refusal is a dropped SYN (a timeout) or a reset, as the enforcer does it.
      const status = (url, init) =>
        fetch(url, { ...init, signal: AbortSignal.timeout(5000) }).then(
          (r) => r.status,
          (e) => (e.name === 'TimeoutError' || e.cause?.code === 'ECONNREFUSED' ? 'unreachable' : String(e)),
        );
      console.log(JSON.stringify({
        noToken: await status(dapr + '/v1.0/invoke/product/method/products'),
        publicRoute: await status(dapr + '/v1.0/invoke/product/method/products', { headers: token }),
        sagaStep: await status(dapr + '/v1.0/invoke/user/method/saga/points/refund', { method: 'POST', headers: { ...token, ...json }, body }),
        aroundTheSidecar: await status('http://user.${NAMESPACE}.svc.cluster.local/saga/points/refund', { method: 'POST', headers: json, body }),
      }));`;
    expect(runInGatewayPod(script)).toEqual({
      noToken: 401,
      publicRoute: 200,
      sagaStep: 403,
      aroundTheSidecar: 'unreachable',
    });
    // Through the kubelet (a port-forward, which no NetworkPolicy sees), without the sidecar's token.
    const around = await fetch(`${url.user}/saga/points/refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: randomUUID(), userId: randomUUID() }),
    });
    expect(around.status).toBe(401);
  });

  test('NetworkPolicies: a pod without the shop’s labels reaches no database, Redis, Kafka, app port or sidecar, but the gateway; each Postgres lets in its own service only', async () => {
    const order = kubectlJson('get', 'pods', '-l', 'app.kubernetes.io/name=order').items.find(
      (p: any) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp,
    );
    const ip = order.status.podIP;
    const svc = (name: string) => `${name}.${NAMESPACE}.svc.cluster.local`;
    const targets: Record<string, [string, number]> = {
      postgresOrder: [svc('postgres-order'), 5432],
      postgresUser: [svc('postgres-user'), 5432],
      redis: [svc('redis'), 6379],
      kafka: [svc('kafka'), 9092],
      userService: [svc('user'), 80],
      orderApp: [ip, 3000],
      orderSidecarInternal: [ip, 50002],
      orderSidecarPublic: [ip, 3501],
      orderSidecarMetrics: [ip, 9090],
    };
    // A TCP connection: 'open', or 'blocked' when the SYN is dropped or refused (each enforcer
    // does one; every port here listens, as the labelled pod's 'open' ones show) for 8 s: a new
    // pod's address reaches the enforcer's rules a moment after the pod starts.
    const probe = `
      import net from 'node:net';
      const attempt = (host, port) => new Promise((resolve) => {
        const s = net.connect({ host, port, timeout: 2000 });
        s.once('connect', () => { s.destroy(); resolve('open'); });
        s.once('timeout', () => { s.destroy(); resolve('blocked'); });
        s.once('error', (e) => resolve(e.code === 'ECONNREFUSED' ? 'blocked' : e.code));
      });
      const reach = async (host, port) => {
        const until = Date.now() + 8000;
        for (;;) {
          const result = await attempt(host, port);
          if (result !== 'blocked' || Date.now() > until) return result;
          await new Promise((r) => setTimeout(r, 500));
        }
      };
      const targets = ${JSON.stringify(targets)};
      const out = Object.fromEntries(await Promise.all(
        Object.entries(targets).map(async ([what, [host, port]]) => [what, await reach(host, port)]),
      ));
      out.gateway = await fetch('http://${svc('gateway')}/products').then((r) => r.status, (e) => String(e));
      console.log(JSON.stringify(out));`;
    const all = (value: string) => Object.fromEntries(Object.keys(targets).map((k) => [k, value]));
    expect(await runInProbePod(probe)).toEqual({ ...all('blocked'), gateway: 200 });
    // The same from a pod with the order service's labels: its own database, Redis, Kafka and
    // the sidecars' internal port open to it; another service's database, an app port and the
    // sidecars' public and metrics ports not.
    expect(
      await runInProbePod(probe, {
        labels: { 'app.kubernetes.io/name': 'order', 'app.kubernetes.io/instance': 'shop' },
      }),
    ).toEqual({
      ...all('blocked'),
      postgresOrder: 'open',
      redis: 'open',
      kafka: 'open',
      orderSidecarInternal: 'open',
      gateway: 200,
    });
  });

  test('No ServiceAccount of the shop may read a Secret, and no pod carries a token for the Kubernetes API; the shop works without', () => {
    const canI = (account: string, what: string) => {
      const r = spawnSync(
        process.env.SHOP_KUBECTL ?? 'kubectl',
        ['-n', NAMESPACE, 'auth', 'can-i', 'get', what, `--as=system:serviceaccount:${NAMESPACE}:${account}`],
        { encoding: 'utf8' },
      );
      return r.stdout.trim();
    };
    for (const account of [...SERVICES, 'gateway', 'default']) {
      for (const secret of ['secrets', 'secret/shop-database-urls', 'secret/shop-user-app-api-token'])
        expect({ account, secret, allowed: canI(account, secret) }).toEqual({
          account,
          secret,
          allowed: 'no',
        });
    }
    const pods = kubectlJson('get', 'pods').items.filter((p: any) => p.status.phase === 'Running');
    const apiTokens = pods.flatMap((p: any) =>
      p.spec.containers.flatMap((c: any) =>
        (c.volumeMounts ?? [])
          .filter((m: any) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')
          .map(() => `${p.metadata.name}/${c.name}`),
      ),
    );
    expect(apiTokens).toEqual([]);
  });

  test('Each service connects to its own database as its own role, no superuser, and to no other; every password was made at install', async () => {
    for (const service of SERVICES) {
      const own = await connectAs(service);
      try {
        const { rows } = await own.query(
          'select current_user as role, rolsuper as superuser from pg_roles where rolname = current_user',
        );
        expect({ service, ...rows[0] }).toEqual({ service, role: `shop_${service}`, superuser: false });
        // The owner of its tables (its migrations made them).
        expect(
          (await own.query('select count(*)::int as n from mikro_orm_migrations')).rows[0].n,
        ).toBeGreaterThan(0);
      } finally {
        await own.end();
      }
    }
    await expect(connectAs('payment', 'order')).rejects.toThrow(
      /password authentication failed|does not exist/,
    );
    expect(secretValue('shop-postgres', 'password')).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(secretValue('shop-redis', 'password')).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(secretValue('shop-postgres', 'order')).toMatch(/^[0-9a-f]{40}$/);
  });

  test('What the Dapr dashboard shows of each app is there: every sidecar’s public port 3501 answers the dashboard’s pod its components, subscriptions and actors, without the token', async () => {
    // The dashboard (dapr/dashboard pkg/instances) reads http://<pod IP>:3501/v1.0/metadata of
    // each app's first pod; the API port (3500) is on loopback and wants the token. Asked from a
    // pod where the dashboard runs, with its labels (networkPolicy.dashboard).
    const pods = kubectlJson('get', 'pods', '-l', 'app.kubernetes.io/part-of=shop').items.filter(
      (p: any) =>
        (SERVICES as readonly string[]).includes(p.metadata.labels['app.kubernetes.io/name']) &&
        !p.metadata.deletionTimestamp,
    );
    const targets = Object.fromEntries(
      pods.map((p: any) => [p.metadata.labels['app.kubernetes.io/name'], p.status.podIP]),
    );
    const script = `
      const targets = ${JSON.stringify(targets)};
      const out = {};
      // Retried a few seconds: a new pod's address reaches the NetworkPolicy enforcer a moment after it starts.
      const metadata = async (ip) => {
        for (let tries = 1; ; tries++) {
          try {
            return await fetch('http://' + ip + ':3501/v1.0/metadata', { signal: AbortSignal.timeout(2000) }).then((r) => r.json());
          } catch (e) {
            if (tries === 10) throw e;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      };
      for (const [app, ip] of Object.entries(targets)) {
        const meta = await metadata(ip);
        out[app] = {
          id: meta.id,
          components: (meta.components ?? []).map((c) => c.name).sort(),
          topics: (meta.subscriptions ?? []).map((s) => s.topic).sort(),
          actors: (meta.actorRuntime?.activeActors ?? meta.actors ?? []).map((a) => a.type),
        };
      }
      console.log(JSON.stringify(out));`;
    const meta = await runInProbePod(script, { namespace: 'dapr-system', labels: { app: 'dapr-dashboard' } });
    for (const service of SERVICES) {
      expect(meta[service].id).toBe(service);
      expect(meta[service].components).toEqual(expect.arrayContaining(['pubsub', 'statestore']));
    }
    expect(meta.product.topics).toEqual(expect.arrayContaining(['order-events', 'order-events.product.dlq']));
    expect(meta.coupon.topics).toEqual(expect.arrayContaining(['user-events']));
    expect(meta.coupon.actors).toContain('CouponQuotaActor');
  });

  test('Each service’s migrations ran once, from the init container, before the app started', async () => {
    for (const service of SERVICES) {
      const { rows } = await (await db(service)).query(
        'select name, count(*)::int as n from mikro_orm_migrations group by name',
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      const pod = kubectlJson('get', 'pods', '-l', `app.kubernetes.io/name=${service}`).items[0];
      const migrate = pod.status.initContainerStatuses.find((c: any) => c.name === 'migrate');
      expect(migrate.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    }
  });

  test('An order with a coupon and points completes through the Services and sidecars, and every service agrees', async () => {
    const userId = await api.newUser(50_000);
    const productId = await api.newProduct(20_000, 10);
    const couponId = await api.couponFor(userId);
    const order = await api.settled(
      await api.placeOrder({ userId, items: [{ productId, quantity: 2 }], couponId, pointsToUse: 3000 }),
    );
    expect(order).toMatchObject({
      status: 'COMPLETED',
      totalAmount: 40_000,
      discount: 5000,
      paymentAmount: 32_000,
    });
    expect(Object.values(stepStates(order)).every((s) => s === 'done')).toBe(true);
    expect(await api.stockOf(productId)).toBe(8);
    expect(await api.balanceOf(userId)).toBe(47_000);
    expect(await api.couponState(userId)).toBe('USED');
    expect(await api.paymentOf(order.orderId)).toMatchObject({ status: 'COMPLETED', amount: 32_000 });
    const told = await eventually('the buyer to be told over Kafka', async () => {
      const n = (await call('GET', `${url.user}/users/${userId}/notifications`)).body.items;
      return n.length > 0 ? n : undefined;
    });
    expect(told).toEqual([expect.objectContaining({ orderId: order.orderId, kind: 'OrderCompleted' })]);
  });

  test('When the payment is declined, the order fails, the payment is cancelled and stock, coupon and points are given back', async () => {
    const userId = await api.newUser(50_000);
    const productId = await api.newProduct(20_000, 10);
    const couponId = await api.couponFor(userId);
    const order = await api.settled(
      await api.placeOrder(
        { userId, items: [{ productId, quantity: 1 }], couponId, pointsToUse: 1000 },
        { 'x-fake-gateway': 'fail' },
      ),
    );
    expect(order.status).toBe('FAILED');
    expect(stepStates(order)).toMatchObject({
      useCoupon: 'compensated',
      deductStock: 'compensated',
      startPayment: 'compensated',
      deductPoints: 'pending',
    });
    expect(await api.stockOf(productId)).toBe(10);
    expect(await api.couponState(userId)).toBe('ISSUED');
    expect(await api.balanceOf(userId)).toBe(50_000);
    expect((await api.paymentOf(order.orderId)).status).toBe('CANCELLED');
  });

  test('A burst of coupon requests past the quota ends with the quota invariants true', async () => {
    const quota = 20;
    const users = await Promise.all(Array.from({ length: 60 }, () => api.newUser(0)));
    const coupon = await call('POST', `${url.coupon}/coupons`, {
      name: 'Cluster burst',
      discountType: 'FIXED',
      discountValue: 1000,
      quota,
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const couponDb = await db('coupon');
    await eventually('the coupon service to know the users', async () => {
      const { rows } = await couponDb.query(
        'select count(*)::int as n from known_users where user_id = any($1)',
        [users],
      );
      return rows[0].n === users.length;
    });
    // Every user asks, and one in three twice.
    const asks = [...users, ...users.filter((_, i) => i % 3 === 0)];
    const answers = await Promise.all(
      asks.map((userId) => call('POST', `${url.coupon}/coupons/${coupon.body.id}/issue`, { userId })),
    );
    const accepted = answers.filter((a) => a.status === 202).length;
    expect(accepted).toBe(asks.length);
    await waitUntilResolved(couponDb, coupon.body.id, 180_000);
    const outcome = await checkSpike(couponDb, coupon.body.id, quota, accepted);
    expect(outcome.violations).toEqual([]);
    expect(outcome.issued).toBe(quota);
  });

  test('When the order pod is deleted mid-saga, every order in flight still ends', async () => {
    const { productId, orders } = await sagasInFlight();
    const [pod] = kubectl('get', 'pods', '-l', 'app.kubernetes.io/name=order', '-o', 'name')
      .trim()
      .split('\n');
    kubectl('delete', pod!, '--wait=false');
    await servicePodsSettled();
    await connect();
    await expectAllCompleted(productId, orders);
  });

  test('When the Redis pod’s network is cut for 20 s with orders in flight, every order still ends', async () => {
    const { productId, orders } = await sagasInFlight();
    // In the pod's own network namespace, from its kind node (a container): packets to Redis
    // from outside the pod vanish, as in a partition; its readiness probe (redis-cli, on
    // loopback) still answers, so it is not restarted for it.
    const pod = kubectlJson('get', 'pods', '-l', 'app.kubernetes.io/name=redis').items[0];
    const node = pod.spec.nodeName as string;
    const docker = (...args: string[]) =>
      execFileSync('docker', ['exec', node, ...args], { encoding: 'utf8' });
    // The Redis container's process, as the node's containerd knows it (`ctr task ls`: task, pid, status).
    const containerId = (pod.status.containerStatuses[0].containerID as string).replace(
      /^containerd:\/\//,
      '',
    );
    const task = docker('ctr', '-n', 'k8s.io', 'task', 'ls')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .find(([id]) => id === containerId);
    const pid = task?.[1];
    if (!pid) throw new Error(`no task ${containerId} of pod ${pod.metadata.name} on ${node}`);
    const rule = ['INPUT', '-i', 'eth0', '-p', 'tcp', '--dport', '6379', '-j', 'DROP'];
    docker('nsenter', '-t', pid, '-n', 'iptables', '-I', ...rule);
    try {
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      // The cut held: the sagas could not have ended with their workflow state out of reach.
      const during = await Promise.all(orders.map((id) => call('GET', `${url.order}/orders/${id}`)));
      expect(during.filter((o) => o.body.status === 'COMPLETED').length).toBeLessThan(orders.length);
    } finally {
      docker('nsenter', '-t', pid, '-n', 'iptables', '-D', ...rule);
    }
    await expectAllCompleted(productId, orders);
  });

  test('The k6 spike runs as a Job in the cluster and its invariant check passes; the HPAs read CPU from metrics-server', async () => {
    const out = execFileSync(
      join(ROOT, 'node_modules', '.bin', 'node'),
      [
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'loadtest', 'run-coupon-spike-k8s.ts'),
        '--users',
        '300',
        '--quota',
        '100',
        '--peak',
        '60',
      ],
      { encoding: 'utf8', env: { ...process.env, SHOP_NAMESPACE: NAMESPACE } },
    );
    expect(out).toMatch(/k6 in the cluster: \d+ requests, \d+ accepted/);
    expect(out).toContain('100 issued of 100');
    expect(out).toContain('invariants: no oversold coupon');
    // Not inert: metrics-server (installed by k8s/install.sh; kind has none) feeds them.
    for (const name of ['coupon', 'order']) {
      await eventually(`the ${name} HPA to read its pods' CPU`, async () => {
        const hpa = kubectlJson('get', 'hpa', name);
        return hpa.status.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined;
      });
    }
  });

  test('helm upgrade with a changed value rolls out without losing an order in flight', async () => {
    const productId = await api.newProduct(10_000, 50);
    const users = await Promise.all(Array.from({ length: 6 }, () => api.newUser(0)));
    const deployed = kubectlJson('get', 'deploy', 'order');
    const before = deployed.metadata.generation;
    // A value that differs from what runs (a second run on the same cluster changes it back).
    const level = deployed.spec.template.spec.containers[0].env.find(
      (e: any) => e.name === 'LOG_LEVEL',
    ).value;
    const next = level === 'debug' ? 'info' : 'debug';
    const orders = await Promise.all(
      users.map((userId) =>
        api.placeOrder({ userId, items: [{ productId, quantity: 1 }] }, { 'x-fake-gateway': 'slow:2000' }),
      ),
    );
    execFileSync(
      process.env.SHOP_HELM ?? 'helm',
      [
        'upgrade',
        'shop',
        join(ROOT, 'charts', 'shop'),
        '-n',
        NAMESPACE,
        '--reuse-values',
        '--set',
        `common.logLevel=${next}`,
        '--wait',
        '--timeout',
        '10m',
      ],
      { stdio: 'ignore' },
    );
    expect(kubectlJson('get', 'deploy', 'order').metadata.generation).toBeGreaterThan(before);
    await servicePodsSettled();
    const app = kubectlJson('get', 'deploy', 'order').spec.template.spec.containers[0];
    expect(app.env.find((e: any) => e.name === 'LOG_LEVEL').value).toBe(next);
    await connect();
    const ended = await Promise.all(orders.map((id) => api.settled(id, 300_000)));
    expect(ended.map((o) => o.status)).toEqual(orders.map(() => 'COMPLETED'));
  });

  test('helm test passes: every service’s /readyz through a Dapr sidecar', () => {
    const out = execFileSync(process.env.SHOP_HELM ?? 'helm', ['test', 'shop', '-n', NAMESPACE], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/TEST SUITE: +shop-test-readyz[\s\S]*Phase: +Succeeded/);
    const log = kubectl('logs', 'job/shop-test-readyz', '-c', 'readyz');
    for (const service of SERVICES) expect(log).toContain(`${service}: 200`);
  });
});
