import type { ServiceDefinition } from '@shop/platform';
import { opsRouter } from './routes/ops.router.ts';
import { selfTestRegistration } from './saga/self-test.workflow.ts';
import { Workflows } from './saga/workflow-runtime.ts';

export const orderService: ServiceDefinition = {
  build: ({ config, orm, sidecar, log }) => {
    const workflows = new Workflows(
      { host: config.DAPR_HOST, grpcPort: config.DAPR_GRPC_PORT },
      selfTestRegistration({ em: orm.em, sidecar }),
      log.child({ component: 'workflows' }),
    );
    return {
      routers: [opsRouter(workflows)],
      onStarted: async () => workflows.startWhenSidecarReady(() => sidecar.isHealthy()),
      onStopping: () => workflows.stop(),
    };
  },
};
