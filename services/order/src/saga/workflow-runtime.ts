import {
  DaprWorkflowClient,
  type TWorkflow,
  type WorkflowActivityContext,
  WorkflowRuntime,
} from '@dapr/dapr';
import { type Logger, tracedActivity, traceparentInterceptor } from '@shop/platform';
import { quietSdkInfo, raiseWorkerLimits, workerStopped } from './dapr-sdk-workarounds.ts';

// biome-ignore lint/suspicious/noExplicitAny: activities take and return any JSON value
export type Activity = (ctx: WorkflowActivityContext, input: any) => Promise<unknown>;

export interface WorkflowRegistration {
  workflows: Record<string, TWorkflow>;
  activities: Record<string, Activity>;
}

/** How often the worker's connection to the sidecar is checked. */
const WATCH_MS = 2_000;
const MAX_CONCURRENT_WORK_ITEMS = 50;
const MAX_QUEUED_WORK_ITEMS = 1_000_000;

/**
 * The Dapr Workflow worker of this service (gRPC to its sidecar) and a client
 * to schedule and query instances. Names are registered explicitly so that a
 * rename in code never orphans in-flight instances.
 *
 * The SDK's worker gives up for good when its first stream to the sidecar
 * breaks (the sidecar restarted): it does not reconnect. So a watchdog starts a
 * fresh worker whenever the sidecar comes back after being away, or the worker
 * says it stopped; the workflows then resume from their history.
 */
export class Workflows {
  readonly client: DaprWorkflowClient;
  private runtime: WorkflowRuntime | undefined;
  private readonly options: { daprHost: string; daprPort: string; logger: { level: number } };
  private readonly registration: WorkflowRegistration;
  private readonly log: Logger;
  private watchdog: NodeJS.Timeout | undefined;
  private sidecarWasDown = false;
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();

  constructor(sidecar: { host: string; grpcPort: number }, registration: WorkflowRegistration, log: Logger) {
    quietSdkInfo(log);
    this.options = { daprHost: sidecar.host, daprPort: String(sidecar.grpcPort), logger: { level: 1 } };
    // The client sends the scheduling request's trace to the sidecar, whose workflow spans join it.
    this.client = new DaprWorkflowClient({
      ...this.options,
      grpcOptions: { interceptors: [traceparentInterceptor] },
    });
    this.registration = registration;
    this.log = log;
  }

  private newRuntime(): WorkflowRuntime {
    const runtime = new WorkflowRuntime(this.options);
    const raised = raiseWorkerLimits(runtime, {
      concurrentWorkItems: MAX_CONCURRENT_WORK_ITEMS,
      queuedWorkItems: MAX_QUEUED_WORK_ITEMS,
    });
    if (!raised)
      this.log.warn('the SDK worker has no limits to raise (dapr-sdk-workarounds.ts): a spike may stall');
    for (const [name, workflow] of Object.entries(this.registration.workflows))
      runtime.registerWorkflowWithName(name, workflow);
    for (const [name, activity] of Object.entries(this.registration.activities))
      runtime.registerActivityWithName(name, tracedActivity(name, activity, this.log));
    return runtime;
  }

  private async restart(reason: string): Promise<void> {
    const old = this.runtime;
    this.runtime = undefined;
    await old?.stop().catch(() => undefined);
    const runtime = this.newRuntime();
    await runtime.start();
    this.runtime = runtime;
    this.log.info({ reason }, 'workflow worker started');
  }

  /** Starts the worker once the sidecar answers (daprd starts after the app), and keeps it connected. */
  startWhenSidecarReady(sidecarReady: () => Promise<boolean>): void {
    const check = async () => {
      const ready = await sidecarReady();
      if (!ready) {
        this.sidecarWasDown = true;
        return;
      }
      if (!this.runtime) await this.restart('sidecar ready');
      else if (this.sidecarWasDown) await this.restart('sidecar came back');
      else if (workerStopped(this.runtime)) await this.restart('worker stopped');
      this.sidecarWasDown = false;
    };
    const tick = () => {
      this.busy = this.busy
        .then(check)
        .catch((err) => this.log.warn({ err }, 'workflow worker could not start yet; retrying'))
        .finally(() => {
          if (!this.stopped) this.watchdog = setTimeout(tick, WATCH_MS);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.watchdog);
    await this.busy;
    await this.runtime?.stop().catch(() => undefined);
    await this.client.stop();
  }
}
