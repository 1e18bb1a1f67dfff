/**
 * charts/shop, the k8s/ scripts and the Tiltfile, checked with the real tools:
 * helm lint and template, a real kube-apiserver (with etcd, on loopback) that
 * validates every rendered object server-side against the Kubernetes API and
 * Dapr's CRDs, real Tilt evaluating the Tiltfile, and shellcheck. `npm test`
 * provisions the tools and passes them in SHOP_* variables.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CHART, chartTemplateArgs, provisionedTool } from '@shop/testkit';

const ROOT = join(import.meta.dirname, '..', '..');
const HELM = provisionedTool('SHOP_HELM');
const KUBECTL = provisionedTool('SHOP_KUBECTL');
const TILT = provisionedTool('SHOP_TILT');
const DAPR_CHART = provisionedTool('SHOP_DAPR_CHART');

const work = mkdtempSync(join(tmpdir(), 'shop-chart-'));
const kubeconfig = join(work, 'control-plane', 'kubeconfig');
// Tilt's helm() and the Tiltfile's local() find helm and kubectl on the PATH; Tilt keeps state in HOME.
const toolEnv = {
  ...process.env,
  KUBECONFIG: kubeconfig,
  HOME: work,
  PATH: [dirname(HELM), dirname(KUBECTL), process.env.PATH].join(delimiter),
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
// Helm says, on every run, that it follows charts/shop/components to components/: that is the point.
const symlinkNotice = /^.*found symbolic link in path: .*\n/gm;
function run(command: string, args: string[], input?: string, env: NodeJS.ProcessEnv = toolEnv): Run {
  const r = spawnSync(command, args, {
    cwd: ROOT,
    env,
    input,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr.replace(symlinkNotice, '') };
}
function ok(command: string, args: string[], input?: string): string {
  const r = run(command, args, input);
  if (r.code !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The value sets users install with; each must render and pass the API server. */
const valueSets: Record<string, string[]> = {
  default: [],
  kind: ['k8s/kind/values.yaml'],
  minikube: ['k8s/minikube/values.yaml'],
  'kind, laptop profile': ['k8s/kind/values.yaml', 'k8s/laptop/values.yaml'],
  tilt: ['tilt/values.yaml'],
  'kind, as the cluster suite installs it': ['k8s/kind/values.yaml', 'k8s/test/cluster-values.yaml'],
  'external infrastructure': ['k8s/external-infrastructure.yaml'],
};
const template = (files: string[], extra: string[] = [], chart = CHART) =>
  run(HELM, chartTemplateArgs([...files.flatMap((f) => ['--values', f]), ...extra], chart));
const serverDryRun = (manifest: string) =>
  run(KUBECTL, ['apply', '--dry-run=server', '--validate=strict', '-n', 'shop', '-f', '-'], manifest);

type K8sObject = any;
const parseAll = (manifest: string): K8sObject[] =>
  manifest
    .split(/^---\s*$/m)
    .map((doc) => doc.trim())
    .filter((doc) => doc.replace(/^#.*$/gm, '').trim())
    .map((doc) => JSON.parse(ok(KUBECTL, ['create', '--dry-run=client', '-o', 'json', '-f', '-'], doc)));

beforeAll(() => {
  execFileSync('bash', [join(ROOT, 'k8s', 'test', 'api-server.sh'), 'up', join(work, 'control-plane')], {
    env: { ...process.env, KUBE_BIN: provisionedTool('SHOP_KUBE_BIN') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  ok(KUBECTL, ['create', 'namespace', 'shop']);
  // What the controller manager would create (this API server runs alone): the helm test Pod needs it.
  ok(KUBECTL, ['-n', 'shop', 'create', 'serviceaccount', 'default']);
}, 120_000);

afterAll(() => {
  execFileSync('bash', [join(ROOT, 'k8s', 'test', 'api-server.sh'), 'down', join(work, 'control-plane')]);
  rmSync(work, { recursive: true, force: true });
});

describe('charts/shop against a real kube-apiserver', () => {
  test('When the Dapr CRDs are missing, then installing refuses and says what to run', () => {
    const install = run(HELM, ['install', 'shop', CHART, '--namespace', 'shop', '--dry-run=server']);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain('The Dapr CRDs are not installed in this cluster');
    expect(install.stderr).toContain('helm upgrade --install dapr dapr/dapr --version 1.18.2');
    // And the API server itself does not know the kind: what users of other demos see.
    const dapr = template([], ['--show-only', 'templates/dapr/resources.yaml']);
    expect(dapr.code).toBe(0);
    const applied = serverDryRun(dapr.stdout);
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('no matches for kind "Component"');
  });

  describe('with Dapr 1.18.2 CRDs installed', () => {
    beforeAll(() => {
      ok(KUBECTL, ['apply', '--server-side', '-f', join(DAPR_CHART, 'crds')]);
      ok(KUBECTL, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    }, 90_000);

    test('helm lint --strict passes with every value set', () => {
      // lint has no cluster and no --api-versions: without the CRD check, so that every template renders.
      for (const files of Object.values(valueSets)) {
        const out = ok(HELM, [
          'lint',
          '--strict',
          CHART,
          '--set',
          'dapr.requireCrds=false',
          ...files.flatMap((f) => ['--values', f]),
        ]);
        expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
        expect(out).not.toContain('[ERROR]');
        expect(out).not.toContain('[WARNING]');
      }
    });

    test('helm install --dry-run=server passes: the CRD check sees Dapr and the server accepts the release', () => {
      const out = ok(HELM, ['install', 'shop', CHART, '--namespace', 'shop', '--dry-run=server']);
      expect(out).toContain('STATUS: pending-install');
      expect(out).toContain('kubectl -n dapr-system port-forward svc/dapr-dashboard 8080:8080');
    });

    test.each(Object.entries(valueSets))(
      'The %s values render and the API server accepts every object, strictly',
      (_, files) => {
        const rendered = template(files);
        expect(rendered.stderr).toBe('');
        expect(rendered.code).toBe(0);
        const applied = serverDryRun(rendered.stdout);
        expect(applied.stderr).toBe('');
        expect(applied.code).toBe(0);
        expect(applied.stdout).toContain('deployment.apps/order created (server dry run)');
        expect(applied.stdout).toContain('component.dapr.io/pubsub created (server dry run)');
      },
    );

    test('Every service is a Deployment with its sidecar annotations, probes, migrations first, a Service and a PDB', () => {
      const objects = parseAll(template([]).stdout);
      const named = (kind: string, name: string) =>
        objects.find((o) => o.kind === kind && o.metadata.name === name);
      for (const name of ['user', 'product', 'coupon', 'payment', 'order']) {
        const deployment = named('Deployment', name);
        const pod = deployment.spec.template;
        expect(pod.metadata.annotations).toMatchObject({
          'dapr.io/enabled': 'true',
          'dapr.io/app-id': name,
          'dapr.io/app-port': '3000',
          'dapr.io/config': `${name}-config`,
          'dapr.io/log-as-json': 'true',
          'dapr.io/enable-metrics': 'true',
          'dapr.io/api-token-secret': 'shop-dapr-api-token',
          'dapr.io/app-token-secret': `shop-${name}-app-api-token`,
          'dapr.io/disable-builtin-k8s-secret-store': 'true',
        });
        // No token for the Kubernetes API in the pod, and its ServiceAccount mounts none.
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        expect(named('ServiceAccount', name).automountServiceAccountToken).toBe(false);
        expect(pod.spec.initContainers.map((c: K8sObject) => c.name)).toEqual([
          'wait-for-infrastructure',
          'migrate',
        ]);
        expect(pod.spec.initContainers[1].command).toEqual(['node', `services/${name}/src/migrate.ts`]);
        expect(pod.spec.initContainers[0].args).toEqual(
          expect.arrayContaining(['redis:6379', `postgres-${name}:5432`, 'kafka:9092']),
        );
        const app = pod.spec.containers[0];
        expect(app.image).toBe(`shop/${name}:0.1.0`);
        expect(app.readinessProbe.httpGet.path).toBe('/readyz');
        expect(app.livenessProbe.httpGet.path).toBe('/healthz');
        expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
        const envOf = Object.fromEntries(app.env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));
        expect(envOf.APP_ID).toBe(name);
        expect(envOf.DAPR_API_TOKEN).toEqual({ secretKeyRef: { name: 'shop-dapr-api-token', key: 'token' } });
        expect(envOf.APP_API_TOKEN).toEqual({
          secretKeyRef: { name: `shop-${name}-app-api-token`, key: 'token' },
        });
        expect(envOf.DATABASE_URL).toEqual({ secretKeyRef: { name: 'shop-database-urls', key: name } });
        expect(named('Service', name).spec.ports[0].targetPort).toBe('http');
        expect(named('PodDisruptionBudget', name)).toBeDefined();
      }
      expect(named('HorizontalPodAutoscaler', 'coupon').spec.maxReplicas).toBe(4);
      // No ServiceAccount of the chart is granted anything: no Role, no binding.
      expect(objects.filter((o) => /Role(Binding)?$/.test(o.kind)).map((o) => o.metadata.name)).toEqual([]);
      expect(
        objects
          .filter((o) => o.spec?.template?.spec)
          .filter((o) => o.spec.template.spec.automountServiceAccountToken !== false)
          .map((o) => `${o.kind}/${o.metadata.name}`),
      ).toEqual([]);
      expect(named('HorizontalPodAutoscaler', 'order')).toBeDefined();
      expect(named('HorizontalPodAutoscaler', 'user')).toBeUndefined();
      const productEnv = named('Deployment', 'product').spec.template.spec.containers[0].env;
      expect(productEnv.find((e: K8sObject) => e.name === 'REDIS_URL').value).toBe(
        'redis://:$(REDIS_PASSWORD)@redis:6379',
      );
    });

    test('Each service has its own Configuration whose access control lets only order reach the saga steps; the tokens are Secrets', () => {
      const objects = parseAll(template([]).stdout);
      const named = (kind: string, name: string) =>
        objects.find((o) => o.kind === kind && o.metadata.name === name);
      for (const name of ['user', 'product', 'coupon', 'payment']) {
        const acl = named('Configuration', `${name}-config`).spec.accessControl;
        expect(acl).toMatchObject({ defaultAction: 'deny', trustDomain: 'public' });
        const policy = (appId: string) => acl.policies.find((p: K8sObject) => p.appId === appId);
        expect(policy('order')).toMatchObject({ defaultAction: 'allow', namespace: 'shop' });
        // The gateway: deny by default, public prefixes only, none of them /saga.
        expect(policy('gateway')).toMatchObject({ defaultAction: 'deny', namespace: 'shop' });
        for (const op of policy('gateway').operations) expect(op.name).not.toMatch(/^\/saga/);
        expect(policy('shop-tests').operations).toEqual([
          { name: '/readyz', httpVerb: ['GET'], action: 'allow' },
        ]);
      }
      // Nobody invokes the gateway through Dapr, but the `helm test` pod asking its /readyz.
      expect(
        named('Configuration', 'gateway-config').spec.accessControl.policies.map((p: K8sObject) => p.appId),
      ).toEqual(['shop-tests']);
      expect(named('Configuration', 'shop-config')).toBeUndefined();
      const appTokens = ['user', 'product', 'coupon', 'payment', 'order'].map(
        (s) => `shop-${s}-app-api-token`,
      );
      const tokenOf = (secret: string) =>
        Buffer.from(named('Secret', secret).data.token, 'base64').toString();
      for (const secret of ['shop-dapr-api-token', ...appTokens])
        expect(tokenOf(secret)).toMatch(/^[A-Za-z0-9]{43}$/);
      // One app token per service: one service's opens no other's port.
      expect(new Set(appTokens.map(tokenOf)).size).toBe(appTokens.length);
      // No committed password: each is made at install; each service connects as its own role.
      const postgresSecret = named('Secret', 'shop-postgres').stringData;
      const urls = named('Secret', 'shop-database-urls').stringData;
      expect(named('Secret', 'shop-redis').stringData.password).toMatch(/^[A-Za-z0-9]{40}$/);
      expect(postgresSecret.password).toMatch(/^[A-Za-z0-9]{40}$/);
      for (const service of ['user', 'product', 'coupon', 'payment', 'order']) {
        // Each role's derived from the superuser's (see templates/infra/postgres.yaml).
        expect(postgresSecret[service]).toMatch(/^[0-9a-f]{40}$/);
        expect(urls[service]).toBe(
          `postgres://shop_${service}:${postgresSecret[service]}@postgres-${service}:5432/shop_${service}`,
        );
      }
      expect(new Set(Object.values(postgresSecret)).size).toBe(6);
      const pubsub = named('Component', 'pubsub').spec.metadata;
      expect(pubsub.find((m: K8sObject) => m.name === 'publishingScopes').value).toContain(
        'payment=payment-events;',
      );
    });

    test('The gateway is a Deployment with its sidecar and no database; the user service signs with the key in a Secret', () => {
      const objects = parseAll(template([]).stdout);
      const named = (kind: string, name: string) =>
        objects.find((o) => o.kind === kind && o.metadata.name === name);
      const pod = named('Deployment', 'gateway').spec.template;
      expect(pod.metadata.annotations).toMatchObject({
        'dapr.io/enabled': 'true',
        'dapr.io/app-id': 'gateway',
      });
      expect(pod.spec.initContainers).toBeUndefined();
      // Its routes are public: its sidecar demands the Dapr API token but sends its app none.
      expect(pod.metadata.annotations['dapr.io/api-token-secret']).toBe('shop-dapr-api-token');
      expect(pod.metadata.annotations['dapr.io/app-token-secret']).toBeUndefined();
      const gatewayEnv = pod.spec.containers[0].env.map((e: K8sObject) => e.name);
      expect(gatewayEnv).not.toContain('DATABASE_URL');
      expect(gatewayEnv).not.toContain('APP_API_TOKEN');
      expect(pod.spec.containers[0].image).toBe('shop/gateway:0.1.0');
      expect(named('Service', 'gateway')).toBeDefined();

      const userEnv = named('Deployment', 'user').spec.template.spec.containers[0].env;
      expect(userEnv.find((e: K8sObject) => e.name === 'JWT_PRIVATE_KEY').valueFrom).toEqual({
        secretKeyRef: { name: 'shop-jwt-signing-key', key: 'private-key.pem' },
      });
      const key = Buffer.from(
        named('Secret', 'shop-jwt-signing-key').data['private-key.pem'],
        'base64',
      ).toString();
      expect(createPrivateKey(key).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
      // A Secret of one's own instead: the chart makes none.
      const own = parseAll(template(['--set', 'auth.existingSecret=my-jwt']).stdout);
      expect(
        own.find((o) => o.kind === 'Secret' && o.metadata.name === 'shop-jwt-signing-key'),
      ).toBeUndefined();
    });

    test('The Dapr resources are those of components/, with cluster addresses and Redis password from its Secret', () => {
      const objects = parseAll(template([]).stdout);
      // config/config.yaml becomes one <service>-config each; access-control.yaml is merged into them.
      const local = readdirSync(join(ROOT, 'components'), { recursive: true })
        .filter((f) => String(f).endsWith('.yaml') && !String(f).startsWith('config'))
        .flatMap(
          (f) => readFileSync(join(ROOT, 'components', String(f)), 'utf8').match(/^ {2}name: (.+)$/gm) ?? [],
        )
        .map((line) => line.replace('  name: ', ''))
        .concat(['gateway', 'user', 'product', 'coupon', 'payment', 'order'].map((s) => `${s}-config`));
      const dapr = objects.filter((o) => o.apiVersion.startsWith('dapr.io/'));
      expect(dapr.map((o) => o.metadata.name).sort()).toEqual([...local].sort());
      const pubsub = dapr.find((o) => o.metadata.name === 'pubsub');
      expect(pubsub.spec.metadata).toContainEqual({ name: 'brokers', value: 'kafka:9092' });
      expect(pubsub.scopes).toEqual(['user', 'product', 'coupon', 'payment', 'order']);
      const state = dapr.find((o) => o.metadata.name === 'statestore');
      expect(state.spec.metadata).toContainEqual({ name: 'redisHost', value: 'redis:6379' });
      expect(state.spec.metadata).toContainEqual({
        name: 'redisPassword',
        secretKeyRef: { name: 'shop-redis', key: 'password' },
      });
      expect(dapr.filter((o) => o.kind === 'Subscription').every((s) => s.scopes?.length > 0)).toBe(true);
    });

    test('Observability: with a Zipkin endpoint the sidecars and services send spans to it at the given rate, without one nothing leaves; pods are annotated for Prometheus; the Grafana dashboard is a labelled ConfigMap', () => {
      const endpoint = 'http://zipkin.observability:9411/api/v2/spans';
      const withZipkin = parseAll(
        template(
          [],
          [
            '--set',
            `observability.tracing.zipkinEndpoint=${endpoint}`,
            '--set-string',
            'observability.tracing.samplingRate=0.25',
          ],
        ).stdout,
      );
      const config = withZipkin.find((o) => o.kind === 'Configuration');
      expect(config.spec.tracing).toEqual({
        samplingRate: '0.25',
        stdout: false,
        zipkin: { endpointAddress: endpoint },
      });
      const order = withZipkin.find((o) => o.kind === 'Deployment' && o.metadata.name === 'order');
      const env = order.spec.template.spec.containers[0].env;
      expect(env).toEqual(
        expect.arrayContaining([
          { name: 'TRACING_ZIPKIN_URL', value: endpoint },
          { name: 'TRACING_SAMPLING_RATE', value: '0.25' },
        ]),
      );
      expect(order.spec.template.metadata.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '3000',
        'prometheus.io/path': '/metrics',
      });
      // The gateway's port is public: its metrics are on a port of their own.
      const gatewayPod = withZipkin.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway').spec
        .template;
      expect(gatewayPod.metadata.annotations['prometheus.io/port']).toBe('9464');
      expect(gatewayPod.spec.containers[0].ports).toContainEqual({ name: 'metrics', containerPort: 9464 });
      expect(gatewayPod.spec.containers[0].env).toContainEqual({ name: 'METRICS_PORT', value: '9464' });

      const byDefault = parseAll(template([]).stdout);
      expect(byDefault.find((o) => o.kind === 'Configuration').spec.tracing).toEqual({
        samplingRate: '0.1',
        stdout: false,
      });
      const dashboard = byDefault.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name === 'shop-grafana-dashboard',
      );
      expect(dashboard.metadata.labels.grafana_dashboard).toBe('1');
      const json = JSON.parse(dashboard.data['shop.json']);
      const queries: string[] = json.panels.flatMap((p: K8sObject) =>
        (p.targets ?? []).map((t: K8sObject) => t.expr),
      );
      for (const metric of [
        'saga_step_states_total',
        'orders',
        'outbox_backlog_events',
        'dead_letters_pending',
        'coupon_requests',
      ])
        expect(
          queries.some(
            (q) => q.includes(`${metric}{`) || q.includes(`${metric}[`) || q.includes(`(${metric})`),
          ),
        ).toBe(true);
      const off = parseAll(template([], ['--set', 'observability.grafanaDashboard=false']).stdout);
      expect(
        off.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'shop-grafana-dashboard'),
      ).toBeUndefined();
    });

    test('Ended workflows are purged: every Configuration carries the retention of dapr.workflowRetention (1 h completed, 7 days failed or terminated by default); a duration that is not Go’s is refused', () => {
      const retention = (objects: K8sObject[]) =>
        objects.filter((o) => o.kind === 'Configuration').map((o) => o.spec.workflow.stateRetentionPolicy);
      const byDefault = retention(parseAll(template([]).stdout));
      expect(byDefault.length).toBeGreaterThan(1);
      for (const policy of byDefault)
        expect(policy).toEqual({ completed: '1h', failed: '168h', terminated: '168h' });
      const shorter = retention(
        parseAll(template([], ['--set', 'dapr.workflowRetention.completed=10m']).stdout),
      );
      for (const policy of shorter) expect(policy.completed).toBe('10m');
      const refused = template([], ['--set', 'dapr.workflowRetention.completed=one hour']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('workflowRetention');
    });

    test('Each subscription has its own dead-letter topic, <topic>.<consumer>.dlq, that only its consumer reads, and the topics Job creates it', () => {
      const objects = parseAll(template([]).stdout);
      const subscriptions = objects.filter((o) => o.kind === 'Subscription');
      const consuming = subscriptions.filter((s) => s.spec.deadLetterTopic);
      // coupon ← user-events, product ← order-events, user ← order-events (the coupon worker reads
      // its queue from Postgres, not from coupon-events).
      expect(consuming.length).toBeGreaterThanOrEqual(3);
      for (const s of consuming) {
        expect(s.scopes).toHaveLength(1);
        const [consumer] = s.scopes;
        expect(s.spec.deadLetterTopic).toBe(`${s.spec.topic}.${consumer}.dlq`);
        const readers = subscriptions.filter((d) => d.spec.topic === s.spec.deadLetterTopic);
        expect(readers.map((d) => d.scopes)).toEqual([[consumer]]);
        expect(readers[0].spec.routes.default).toBe(`/dead-letters/${s.spec.topic}`);
      }
      const deadLetterTopics = consuming.map((s) => s.spec.deadLetterTopic);
      expect(new Set(deadLetterTopics).size).toBe(deadLetterTopics.length);
      // order-events has two consumers: each has its own.
      expect(deadLetterTopics).toEqual(
        expect.arrayContaining(['order-events.product.dlq', 'order-events.user.dlq']),
      );

      const job = objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('kafka-topics-'));
      const script: string = job.spec.template.spec.containers[0].args[0];
      const created = /for topic in ([^;]+);/.exec(script)![1]!.trim().split(/\s+/);
      expect(created).toEqual(
        expect.arrayContaining([...deadLetterTopics, 'order-events', 'payment-events']),
      );
      expect(created.filter((t) => t.endsWith('-dlq'))).toEqual([]);
      // Kafka's rule for topic names.
      for (const topic of created) expect(topic).toMatch(/^[a-zA-Z0-9._-]{1,249}$/);
    });

    test('External infrastructure: no bundled servers, and the services use the given Secrets and addresses, Kafka over SASL and TLS, Redis over TLS', () => {
      const objects = parseAll(template(valueSets['external infrastructure']!).stdout);
      expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
      const order = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'order');
      const env = order.spec.template.spec.containers[0].env;
      expect(env.find((e: K8sObject) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.name).toBe(
        'shop-databases',
      );
      const pubsub = objects.find((o) => o.kind === 'Component' && o.metadata.name === 'pubsub');
      const metadata = Object.fromEntries(
        pubsub.spec.metadata.map((m: K8sObject) => [m.name, m.value ?? m.secretKeyRef]),
      );
      // Dapr's Kafka component (components-contrib 1.18): SASL with TLS on, the credentials from Secrets.
      expect(metadata).toMatchObject({
        brokers: 'kafka-0.internal:9093,kafka-1.internal:9093,kafka-2.internal:9093',
        authType: 'password',
        saslUsername: { name: 'shop-kafka-sasl', key: 'username' },
        saslPassword: { name: 'shop-kafka-sasl', key: 'password' },
        saslMechanism: 'SHA-512',
        caCert: { name: 'shop-kafka-ca', key: 'ca.crt' },
      });
      expect(pubsub.spec.metadata.filter((m: K8sObject) => m.name === 'authType')).toHaveLength(1);
      expect(metadata.disableTls).toBeUndefined();
      const state = objects.find((o) => o.kind === 'Component' && o.metadata.name === 'statestore');
      expect(state.spec.metadata).toContainEqual({ name: 'enableTLS', value: 'true' });
      const coupon = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'coupon');
      expect(coupon.spec.template.spec.containers[0].env).toContainEqual({
        name: 'REDIS_URL',
        value: 'rediss://:$(REDIS_PASSWORD)@redis.internal:6380',
      });
      // The topics Job reaches the brokers the same way.
      const topics = objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('kafka-topics'));
      const script = topics.spec.template.spec.containers[0].args[0];
      expect(script).toContain('security.protocol=SASL_SSL');
      expect(script).toContain('sasl.mechanism=SCRAM-SHA-512');
      expect(script).toContain('ssl.truststore.location=/etc/kafka-ca/ca.crt');
      expect(script).toContain('--command-config');
      expect(topics.spec.template.spec.volumes).toContainEqual({
        name: 'kafka-ca',
        secret: { secretName: 'shop-kafka-ca' },
      });
      // Without SASL (the bundled Kafka): none of it.
      const bundled = parseAll(template([]).stdout);
      const plain = bundled.find((o) => o.kind === 'Component' && o.metadata.name === 'pubsub');
      expect(plain.spec.metadata).toContainEqual({ name: 'authType', value: 'none' });
      expect(JSON.stringify(plain.spec.metadata)).not.toContain('sasl');
    });

    test('Reaching the shop: an Ingress to the gateway when asked (accepted by the API server), none by default; minikube’s gateway on a NodePort for `minikube service`', () => {
      expect(parseAll(template([]).stdout).filter((o) => o.kind === 'Ingress')).toEqual([]);
      const rendered = template(
        [],
        ['--set', 'ingress.enabled=true,ingress.className=nginx,ingress.host=shop.example.com'],
      );
      expect(serverDryRun(rendered.stdout).code).toBe(0);
      const [ingress] = parseAll(rendered.stdout).filter((o) => o.kind === 'Ingress');
      expect(ingress.spec.ingressClassName).toBe('nginx');
      expect(ingress.spec.rules).toEqual([
        {
          host: 'shop.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'gateway', port: { name: 'http' } } },
              },
            ],
          },
        },
      ]);
      const minikube = parseAll(template(valueSets.minikube!).stdout);
      const gateway = minikube.find((o) => o.kind === 'Service' && o.metadata.name === 'gateway');
      expect(gateway.spec.type).toBe('NodePort');
      expect(gateway.spec.ports[0].nodePort).toBe(30100);
    });

    test('helm test runs a Job, not a bare Pod (Dapr’s injector skips pods that kind’s admin user creates), with the sidecar annotations on its pod and no retries', () => {
      const hooks = parseAll(template([]).stdout).filter(
        (o) => o.metadata.annotations?.['helm.sh/hook'] === 'test',
      );
      expect(hooks.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Job/shop-test-readyz']);
      const [job] = hooks;
      expect(job.spec.backoffLimit).toBe(0);
      expect(job.spec.template.metadata.annotations).toMatchObject({
        'dapr.io/enabled': 'true',
        'dapr.io/app-id': 'shop-tests',
      });
    });

    test('Each service’s image is tagged with its own imageTag when given (the up scripts’ content hash), else image.tag', () => {
      const objects = parseAll(template([], ['--set', 'services.order.imageTag=0.1.0-abcdef012345']).stdout);
      const image = (name: string) =>
        objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name).spec.template.spec
          .containers[0].image;
      expect(image('order')).toBe('shop/order:0.1.0-abcdef012345');
      expect(image('user')).toBe('shop/user:0.1.0');
    });

    test('A broken template is refused by the API server', () => {
      const broken = join(work, 'broken-chart');
      cpSync(CHART, broken, { recursive: true, dereference: true });
      const file = join(broken, 'templates', '_service.tpl');
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(
          'periodSeconds: 5\n',
          'periodSeconds: 5\n            timeoutSecond: 3\n',
        ),
      );
      const rendered = template([], [], broken);
      expect(rendered.code).toBe(0);
      const applied = serverDryRun(rendered.stdout);
      expect(applied.code).not.toBe(0);
      expect(applied.stderr).toContain(
        'unknown field "spec.template.spec.containers[0].readinessProbe.timeoutSecond"',
      );
    });
  });
});

describe('values.schema.json', () => {
  test.each([
    [
      'a typo in a key',
      ['--set', 'services.order.replicass=2'],
      "additional properties 'replicass' not allowed",
    ],
    ['a wrong type', ['--set-string', 'services.order.replicas=two'], 'got string, want integer'],
    ['an unknown service', ['--set', 'services.cart.replicas=1'], "additional properties 'cart' not allowed"],
    ['a pull policy that does not exist', ['--set', 'image.pullPolicy=Sometimes'], 'value must be one of'],
    ['a node port out of range', ['--set', 'services.user.nodePort=8080'], '/services/user/nodePort'],
    ['a non-string env value', ['--set', 'services.user.env.FOO=1'], 'got number, want string'],
    [
      'a sampling rate above 1',
      ['--set-string', 'observability.tracing.samplingRate=2'],
      '/observability/tracing/samplingRate',
    ],
  ])('rejects %s, naming it', (_, args, message) => {
    const r = template([], args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  test('names a setting that external infrastructure needs', () => {
    const r = template([], ['--set', 'postgres.bundled=false']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('postgres.external.existingSecret is required when postgres.bundled is false');
  });
});

describe('the rest of the Kubernetes side', () => {
  /** What real Tilt makes of the Tiltfile; a failure says what Tilt said. */
  const tiltfile = (env: NodeJS.ProcessEnv = toolEnv) => {
    const r = run(TILT, ['alpha', 'tiltfile-result', '--file', join(ROOT, 'Tiltfile')], undefined, env);
    if (r.code !== 0) throw new Error(`tilt exited with ${r.code}:\n${r.stderr}\n${r.stdout}`);
    expect(r.stderr).not.toMatch(/Error|error:/);
    return JSON.parse(r.stdout);
  };

  test('The Tiltfile evaluates with real Tilt: one image with live update per service, the chart, grouped resources', () => {
    const text = JSON.stringify(tiltfile());
    for (const name of ['user', 'product', 'coupon', 'payment', 'order']) {
      expect(text).toContain(`shop/${name}`);
      expect(text).toContain(`/app/services/${name}/src`);
    }
    expect(text).toContain('dapr-dashboard');
    expect(text).toContain('infrastructure');
  });

  test('The Tiltfile refuses a cluster without Dapr, saying what to run', () => {
    const noCluster = { ...toolEnv, KUBECONFIG: join(work, 'no-such-kubeconfig') };
    const r = run(TILT, ['alpha', 'tiltfile-result', '--file', join(ROOT, 'Tiltfile')], undefined, noCluster);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("Dapr's CRDs were not found in cluster");
    expect(r.stderr).toContain('npm run k8s:kind');
  });

  /** The same API server under the context name a kind cluster has (kind-<name>). */
  const kindEnv = () => {
    const file = join(work, 'kind-kubeconfig');
    writeFileSync(
      file,
      readFileSync(kubeconfig, 'utf8').replace(/^(\s*- name: |current-context: )shop$/gm, '$1kind-shop'),
    );
    return { ...toolEnv, KUBECONFIG: file };
  };

  test('On the kind cluster k8s:kind made, Tilt keeps the gateway’s NodePort its host port 3100 reaches and forwards the services, whose NetworkPolicies keep NodePorts out', () => {
    const forwards = (result: K8sObject) =>
      JSON.stringify(result)
        .match(/"localPort":\d+/g)
        ?.map((m) => Number(m.split(':')[1]))
        .sort() ?? [];
    const nodePorts = (result: K8sObject) =>
      (JSON.stringify(result).match(/nodePort: \d+/g) ?? []).map((m) => Number(m.split(' ')[1])).sort();
    // Elsewhere (minikube, any cluster): Tilt forwards the ports npm start uses.
    const elsewhere = tiltfile();
    expect(forwards(elsewhere)).toEqual([3100, 3101, 3102, 3103, 3104, 3105]);
    expect(nodePorts(elsewhere)).toEqual([]);
    const onKind = tiltfile(kindEnv());
    expect(forwards(onKind)).toEqual([3101, 3102, 3103, 3104, 3105]);
    expect(nodePorts(onKind)).toEqual([30100]);
  });

  test('Over the Helm release k8s:kind installed, the Tiltfile refuses and says what to run', () => {
    // What `helm install shop` leaves in the namespace: its release Secret.
    ok(KUBECTL, [
      '-n',
      'shop',
      'create',
      'secret',
      'generic',
      'sh.helm.release.v1.shop.v1',
      '--type',
      'helm.sh/release.v1',
    ]);
    ok(KUBECTL, ['-n', 'shop', 'label', 'secret', 'sh.helm.release.v1.shop.v1', 'owner=helm', 'name=shop']);
    try {
      const r = run(
        TILT,
        ['alpha', 'tiltfile-result', '--file', join(ROOT, 'Tiltfile')],
        undefined,
        kindEnv(),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('installed in cluster kind-shop as the Helm release "shop"');
      expect(r.stderr).toContain('helm uninstall shop -n shop --wait');
    } finally {
      ok(KUBECTL, ['-n', 'shop', 'delete', 'secret', 'sh.helm.release.v1.shop.v1']);
    }
  });

  test('The k6 Job is accepted by the API server and has no Dapr sidecar and no retries; its NetworkPolicy lets only its pods past the chart’s, to the coupon port', () => {
    const manifest = readFileSync(join(ROOT, 'loadtest', 'k8s', 'coupon-spike-job.yaml'), 'utf8').replace(
      /\$\{(\w+)\}/g,
      (_, k: string) =>
        ({
          NAME: 'coupon-spike-1',
          NAMESPACE: 'shop',
          K6_IMAGE: 'grafana/k6:2.0.0',
          COUPON_ID: 'c',
          PEAK_RATE: '10',
        })[k]!,
    );
    const applied = serverDryRun(manifest);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('job.batch/coupon-spike-1 created (server dry run)');
    expect(applied.stdout).toContain(
      'networkpolicy.networking.k8s.io/coupon-spike-1 created (server dry run)',
    );
    const [job, policy] = parseAll(manifest);
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.template.metadata.annotations['dapr.io/enabled']).toBe('false');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'coupon' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { 'batch.kubernetes.io/job-name': 'coupon-spike-1' } } }],
          ports: [{ port: 3000, protocol: 'TCP' }],
        },
      ],
    });
  });

  test('shellcheck finds nothing in the scripts', () => {
    const scripts = readdirSync(join(ROOT, 'k8s'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.sh'))
      .map((f) => join(ROOT, 'k8s', f));
    expect(scripts.length).toBeGreaterThanOrEqual(8);
    const r = run('shellcheck', scripts);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });
});
