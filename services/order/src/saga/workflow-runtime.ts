import {
  DaprWorkflowClient,
  type TWorkflow,
  type WorkflowActivityContext,
  WorkflowRuntime,
} from '@dapr/dapr';
import type { Logger } from '@shop/platform';

// biome-ignore lint/suspicious/noExplicitAny: activities take and return any JSON value
export type Activity = (ctx: WorkflowActivityContext, input: any) => Promise<unknown>;

export interface WorkflowRegistration {
  workflows: Record<string, TWorkflow>;
  activities: Record<string, Activity>;
}

/**
 * The Dapr Workflow worker of this service (gRPC to its sidecar) and a client
 * to schedule and query instances. Names are registered explicitly so that a
 * rename in code never orphans in-flight instances.
 */
export class Workflows {
  readonly client: DaprWorkflowClient;
  private readonly runtime: WorkflowRuntime;
  private readonly log: Logger;
  private starting: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(sidecar: { host: string; grpcPort: number }, registration: WorkflowRegistration, log: Logger) {
    const options = { daprHost: sidecar.host, daprPort: String(sidecar.grpcPort), logger: { level: 1 } };
    this.runtime = new WorkflowRuntime(options);
    this.client = new DaprWorkflowClient(options);
    this.log = log;
    for (const [name, workflow] of Object.entries(registration.workflows)) {
      this.runtime.registerWorkflowWithName(name, workflow);
    }
    for (const [name, activity] of Object.entries(registration.activities)) {
      this.runtime.registerActivityWithName(name, activity);
    }
  }

  /**
   * Connects the worker once the sidecar answers, retrying until it does:
   * daprd starts after the app (it waits for the app's port).
   */
  startWhenSidecarReady(sidecarReady: () => Promise<boolean>, retryMs = 1_000): void {
    this.starting = (async () => {
      while (!this.stopped) {
        try {
          if (await sidecarReady()) {
            await this.runtime.start();
            this.started = true;
            this.log.info('workflow runtime started');
            return;
          }
        } catch (err) {
          this.log.warn({ err }, 'workflow runtime could not start yet; retrying');
        }
        await new Promise((r) => setTimeout(r, retryMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting;
    if (this.started) await this.runtime.stop();
    await this.client.stop();
  }
}
