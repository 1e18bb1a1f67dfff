import { baseConfigSchema, type ServiceDefinition } from '@shop/platform';
import { z } from 'zod';
import { orderEntities } from './db/entities.ts';
import { migrations } from './db/migrations.ts';
import { OrderExporter } from './export/exporter.ts';
import { sentExportsRetention } from './export/exports.ts';
import { FakeDataPlatform } from './export/fake-data-platform.ts';
import { orderExportHandler } from './export/order-completed.handler.ts';
import { defineOrderGauges } from './orders/order-metrics.ts';
import { exportsRoutes } from './routes/exports.router.ts';
import { opsRoutes } from './routes/ops.router.ts';
import { ordersRoutes } from './routes/orders.router.ts';
import { topUpsRoutes } from './routes/top-ups.router.ts';
import { createActivities } from './saga/activities.ts';
import { COMPENSATE_ORDER_WORKFLOW, compensateOrderWorkflow } from './saga/compensate-order.workflow.ts';
import { injectFaults } from './saga/faults.ts';
import { OrderSaga } from './saga/order-saga.ts';
import { PLACE_ORDER_WORKFLOW, placeOrderWorkflow } from './saga/place-order.workflow.ts';
import { OrderReconciler } from './saga/reconciler.ts';
import { selfTestRegistration } from './saga/self-test.workflow.ts';
import { createTopUpActivities, TOP_UP_WORKFLOW, topUpWorkflow } from './saga/top-up.workflow.ts';
import { TopUpSaga } from './saga/top-up-saga.ts';
import { type WorkflowRegistration, Workflows } from './saga/workflow-runtime.ts';
import { defineTopUpGauges } from './top-ups/top-up-metrics.ts';

export const orderConfigSchema = baseConfigSchema.extend({
  FAKE_GATEWAY_FAULTS: z.stringbool().default(false),
  SAGA_CALL_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** Attempts of each compensation (1, 2, 4… s apart) before an order NEEDS_ATTENTION. */
  SAGA_COMPENSATION_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  /** The reconciler's pass (see saga/reconciler.ts), and its bounds. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().positive().default(15_000),
  RECONCILE_UNSCHEDULED_AFTER_MS: z.coerce.number().int().positive().default(30_000),
  /** Longer than the longest wait of a running saga (a 30 s backoff, a slow payment). */
  RECONCILE_STALLED_AFTER_MS: z.coerce.number().int().positive().default(300_000),
  /**
   * The data platform's endpoint that completed orders are POSTed to (export/exporter.ts).
   * Unset: the fake platform (export/fake-data-platform.ts), on loopback at FAKE_DATA_PLATFORM_PORT.
   */
  EXPORT_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^https?$/ }).optional()),
  FAKE_DATA_PLATFORM_PORT: z.coerce.number().int().min(1).max(65535).default(9470),
  EXPORT_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** Sends of a record (1 s doubling to EXPORT_MAX_BACKOFF_MS apart; about 45 min) before it is DEAD. */
  EXPORT_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(16),
  EXPORT_FIRST_BACKOFF_MS: z.coerce.number().int().positive().default(1_000),
  EXPORT_MAX_BACKOFF_MS: z.coerce.number().int().positive().default(300_000),
  EXPORT_POLL_MS: z.coerce.number().int().positive().default(1_000),
  /** How long a record the platform took stays in order_exports (GET /ops/exports/:orderId); an unsent one stays. */
  EXPORT_RETENTION_HOURS: z.coerce.number().positive().default(168),
});

export const orderService: ServiceDefinition<typeof orderConfigSchema> = {
  configSchema: orderConfigSchema,
  migrations,
  entities: orderEntities,
  build: ({ config, orm, sidecar, log, outboxWritten }) => {
    defineOrderGauges(orm.em);
    defineTopUpGauges(orm.em);
    // The test faults (saga/faults.ts) are woven in only when asked for; otherwise none of it is in the path.
    const faults = config.FAKE_GATEWAY_FAULTS ? injectFaults : undefined;
    const sagaDeps = {
      em: orm.em,
      sidecar: faults ? faults.sidecar(sidecar) : sidecar,
      callTimeoutMs: config.SAGA_CALL_TIMEOUT_MS,
    };
    const activities = createActivities({ ...sagaDeps, outboxWritten, beforeStep: faults?.beforeStep });
    const topUpActivities = createTopUpActivities(sagaDeps);
    const selfTest = selfTestRegistration({ em: orm.em, sidecar });
    const registration: WorkflowRegistration = {
      workflows: {
        ...selfTest.workflows,
        [PLACE_ORDER_WORKFLOW]: placeOrderWorkflow(activities),
        [COMPENSATE_ORDER_WORKFLOW]: compensateOrderWorkflow(activities),
        [TOP_UP_WORKFLOW]: topUpWorkflow(topUpActivities),
      },
      activities: { ...selfTest.activities, ...activities, ...topUpActivities },
    };
    const workflows = new Workflows(
      { host: config.DAPR_HOST, grpcPort: config.DAPR_GRPC_PORT },
      faults ? faults.registration(registration) : registration,
      log.child({ component: 'workflows' }),
    );
    const saga = new OrderSaga(workflows.client, { compensationAttempts: config.SAGA_COMPENSATION_ATTEMPTS });
    const topUps = new TopUpSaga(workflows.client);
    const reconciler = new OrderReconciler(
      { em: orm.em, saga, topUps, log: log.child({ component: 'reconciler' }) },
      {
        intervalMs: config.RECONCILE_INTERVAL_MS,
        unscheduledAfterMs: config.RECONCILE_UNSCHEDULED_AFTER_MS,
        stalledAfterMs: config.RECONCILE_STALLED_AFTER_MS,
      },
    );
    const fakePlatform = config.EXPORT_URL
      ? undefined
      : new FakeDataPlatform({ faultsEnabled: config.FAKE_GATEWAY_FAULTS });
    const exporter = new OrderExporter(orm.em, log.child({ component: 'order-export' }), {
      url: config.EXPORT_URL ?? `http://127.0.0.1:${config.FAKE_DATA_PLATFORM_PORT}/records`,
      timeoutMs: config.EXPORT_TIMEOUT_MS,
      attempts: config.EXPORT_ATTEMPTS,
      firstBackoffMs: config.EXPORT_FIRST_BACKOFF_MS,
      maxBackoffMs: config.EXPORT_MAX_BACKOFF_MS,
      pollMs: config.EXPORT_POLL_MS,
      batchSize: 50,
    });
    return {
      routes: [
        opsRoutes(workflows, reconciler),
        exportsRoutes(orm.em),
        ordersRoutes({ em: orm.em, sidecar, saga, faultsEnabled: config.FAKE_GATEWAY_FAULTS }),
        topUpsRoutes({ em: orm.em, topUps, faultsEnabled: config.FAKE_GATEWAY_FAULTS }),
      ],
      eventHandlers: [orderExportHandler(orm.em)],
      retention: [sentExportsRetention(config.EXPORT_RETENTION_HOURS)],
      onStarted: async () => {
        workflows.startWhenSidecarReady(() => sidecar.isHealthy());
        reconciler.start();
        await fakePlatform?.listen(config.FAKE_DATA_PLATFORM_PORT, '127.0.0.1');
        exporter.start();
      },
      onStopping: async () => {
        await reconciler.stop();
        await exporter.stop();
        await fakePlatform?.close();
        await workflows.stop();
      },
    };
  },
};
