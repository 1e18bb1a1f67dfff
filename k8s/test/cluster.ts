/**
 * The running kind cluster (k8s/kind/up.sh), as the cluster suite
 * uses it: kubectl, port-forwards to the services' Kubernetes Services and to
 * their databases, and the shop's API through them.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { call, eventually, fixedCoupon, Kubectl } from '@shop/testkit';
import pg from 'pg';
import { DEMO_ADMIN_HEADERS } from '../../local/src/api-tokens.ts';

export { call, eventually };

export const NAMESPACE = process.env.SHOP_NAMESPACE ?? 'shop';
export const SERVICES = ['user', 'product', 'coupon', 'payment', 'order'] as const;
export type Service = (typeof SERVICES)[number];

const KUBECTL = process.env.SHOP_KUBECTL ?? 'kubectl';
const cluster = new Kubectl(NAMESPACE, KUBECTL);
export const kubectl = (...args: string[]) => cluster.run(...args);
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects, read by path
export type K8sObject = any;
export const kubectlJson = (...args: string[]): K8sObject => JSON.parse(kubectl(...args, '-o', 'json'));

/**
 * Waits until every service's Deployment has rolled out (all its replicas
 * updated and Ready; the HPAs may have scaled coupon and order) and no pod of
 * theirs is terminating: after a pod was deleted or a release upgraded, the
 * old pods are gone.
 */
export function servicePodsSettled(timeoutMs = 300_000): Promise<true> {
  return eventually(
    'every service rolled out, no pod terminating',
    async () => {
      const rolledOut = (SERVICES as readonly string[]).every((name) => {
        const d = kubectlJson('get', 'deploy', name);
        const want = d.spec.replicas ?? 1;
        return (
          d.status.observedGeneration >= d.metadata.generation &&
          d.status.updatedReplicas === want &&
          d.status.readyReplicas === want &&
          (d.status.replicas ?? 0) === want
        );
      });
      const terminating = kubectlJson('get', 'pods', '-l', 'app.kubernetes.io/part-of=shop').items.some(
        (p: K8sObject) =>
          (SERVICES as readonly string[]).includes(p.metadata.labels['app.kubernetes.io/name']) &&
          p.metadata.deletionTimestamp,
      );
      return rolledOut && !terminating;
    },
    timeoutMs,
  );
}

export const closeForwards = () => cluster.closeForwards();

/** Runs a Node module script in the gateway's pod (its app container) and parses the JSON it prints last. */
export const runInGatewayPod = (script: string): K8sObject =>
  JSON.parse(
    kubectl('exec', 'deploy/gateway', '-c', 'app', '--', 'node', '--input-type=module', '-e', script)
      .trim()
      .split('\n')
      .pop()!,
  );

/**
 * Runs a Node module script in a pod of its own, outside the chart: the shop's
 * image, no sidecar, the given namespace and labels (none: a stranger's pod).
 * Resolves with the JSON it prints last; the pod is deleted after.
 */
export async function runInProbePod(
  script: string,
  { namespace = NAMESPACE, labels = {} }: { namespace?: string; labels?: Record<string, string> } = {},
): Promise<K8sObject> {
  const name = `probe-${randomUUID().slice(0, 8)}`;
  const image = kubectl(
    'get',
    'deploy',
    'gateway',
    '-o',
    'jsonpath={.spec.template.spec.containers[?(@.name=="app")].image}',
  );
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, annotations: { 'dapr.io/enabled': 'false' } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'probe',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '--input-type=module', '-e', script],
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
  const inNamespace = (...args: string[]) =>
    execFileSync(KUBECTL, ['-n', namespace, ...args], { encoding: 'utf8', input: JSON.stringify(pod) });
  inNamespace('apply', '-f', '-');
  try {
    await eventually(
      `probe pod ${namespace}/${name} to end`,
      async () =>
        ['Succeeded', 'Failed'].includes(inNamespace('get', 'pod', name, '-o', 'jsonpath={.status.phase}')),
      180_000,
    );
    const out = inNamespace('logs', name);
    if (inNamespace('get', 'pod', name, '-o', 'jsonpath={.status.phase}') !== 'Succeeded')
      throw new Error(`probe pod ${name} failed:\n${out}`);
    return JSON.parse(out.trim().split('\n').pop()!);
  } finally {
    inNamespace('delete', 'pod', name, '--wait=false');
  }
}

/**
 * Base URLs of the services' Kubernetes Services (port 80), through port-forwards;
 * `call` sends them the app API token (from the chart's Secret).
 */
export async function serviceUrls(): Promise<Record<Service, string>> {
  const entries = await Promise.all(SERVICES.map(async (s) => [s, await cluster.serviceUrl(s)] as const));
  return Object.fromEntries(entries) as Record<Service, string>;
}

/** The gateway's Service (port 80), through a port-forward. */
export const gatewayUrl = async (): Promise<string> =>
  `http://127.0.0.1:${await cluster.portForward('svc/gateway', 80)}`;

/** A pool on a service's bundled Postgres, through a port-forward, as its superuser (the operator). */
export async function database(service: Service): Promise<pg.Pool> {
  return new pg.Pool({ connectionString: await cluster.bundledDatabaseUrl(service), max: 2 });
}

/**
 * A client on the bundled Postgres of `server`, with the credentials `service`
 * connects with (its DATABASE_URL in the chart's Secret), through a port-forward.
 */
export async function connectAs(service: Service, server: Service = service): Promise<pg.Client> {
  const url = new URL(cluster.secretValue('shop-database-urls', service));
  url.host = `127.0.0.1:${await cluster.portForward(`svc/postgres-${server}`, 5432)}`;
  url.pathname = `/shop_${server}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

/** A value of one of the chart's Secrets. */
export const secretValue = (name: string, key: string) => cluster.secretValue(name, key);

/** The shop's API as a buyer or an admin uses it, on the given Service URLs. */
export function shopApi(url: Record<Service, string>) {
  return {
    async newUser(points: number): Promise<string> {
      const user = await call('POST', `${url.user}/users`, {
        email: `${randomUUID()}@example.com`,
        name: 'Buyer',
      });
      if (points > 0) {
        const granted = await call(
          'POST',
          `${url.user}/users/${user.body.id}/points/grants`,
          { amount: points, reason: 'a cluster suite buyer', idempotencyKey: randomUUID() },
          DEMO_ADMIN_HEADERS,
        );
        if (granted.status !== 200) throw new Error(`granting points answered ${granted.status}`);
      }
      return user.body.id;
    },
    async newProduct(price: number, stock: number): Promise<string> {
      const res = await call('POST', `${url.product}/products`, {
        name: `Item ${randomUUID().slice(0, 6)}`,
        price,
        stock,
      });
      return res.body.id;
    },
    /** A coupon (5,000 KRW off orders of 10,000 or more) issued to the user through the first-come path. */
    async couponFor(userId: string): Promise<string> {
      const coupon = await call('POST', `${url.coupon}/coupons`, fixedCoupon('Cluster test'));
      const requestId = await eventually('the coupon service to know the user', async () => {
        const r = await call('POST', `${url.coupon}/coupons/${coupon.body.id}/issue`, { userId });
        return r.status === 202 ? r.body.requestId : undefined;
      });
      await eventually(
        'the coupon to be issued',
        async () =>
          (await call('GET', `${url.coupon}/coupon-requests/${requestId}`)).body.status === 'COMPLETED',
        60_000,
      );
      return coupon.body.id;
    },
    async placeOrder(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
      const res = await call('POST', `${url.order}/orders`, body, headers);
      if (res.status !== 202)
        throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.orderId;
    },
    // biome-ignore lint/suspicious/noExplicitAny: the order as the API returns it
    async settled(orderId: string, timeoutMs = 180_000): Promise<any> {
      return eventually(
        `order ${orderId} to end`,
        async () => {
          const o = (await call('GET', `${url.order}/orders/${orderId}`)).body;
          return o.status === 'PENDING' ? undefined : o;
        },
        timeoutMs,
      );
    },
    stockOf: async (productId: string) =>
      (await call('GET', `${url.product}/products/${productId}/stock`)).body.quantity,
    balanceOf: async (userId: string) =>
      (await call('GET', `${url.user}/users/${userId}/points`)).body.balance,
    couponState: async (userId: string) =>
      (await call('GET', `${url.coupon}/users/${userId}/coupons`)).body.items[0]?.status,
    paymentOf: async (orderId: string) => (await call('GET', `${url.payment}/payments/${orderId}`)).body,
  };
}
