import { format } from 'node:util';
import type { WorkflowRuntime } from '@dapr/dapr';
import type { Logger } from '@shop/platform';

/**
 * What @dapr/dapr 3.18's workflow runtime does not let us set, reached around
 * its API, in this one module. Its durabletask worker (moved into the SDK by
 * dapr/js-sdk#738) takes no concurrency or logger options; microsoft/
 * durabletask-js#359 added concurrency options to the upstream worker, not yet
 * to Dapr's. dapr-sdk-workarounds.test.ts checks every reach against the
 * installed SDK, so an upgrade that renames these fields fails that test
 * instead of silently undoing the workaround.
 */

/** The worker's own fields (`task-hub-grpc-worker.js`): not public API. */
interface WorkerInternals {
  _maxConcurrentWorkItems?: unknown;
  _maxQueueSize?: unknown;
  _isRunning?: unknown;
}

const workerOf = (runtime: WorkflowRuntime | undefined): WorkerInternals | undefined =>
  (runtime as unknown as { worker?: WorkerInternals } | undefined)?.worker;

/**
 * The SDK's worker runs 10 work items at once and queues 100 more; past that
 * it drops work items, and their workflows stall for good (seen at 20
 * orders/s). Raises both; false when the SDK has no such fields any more.
 */
export function raiseWorkerLimits(
  runtime: WorkflowRuntime,
  limits: { concurrentWorkItems: number; queuedWorkItems: number },
): boolean {
  const worker = workerOf(runtime);
  if (typeof worker?._maxConcurrentWorkItems !== 'number' || typeof worker._maxQueueSize !== 'number')
    return false;
  worker._maxConcurrentWorkItems = limits.concurrentWorkItems;
  worker._maxQueueSize = limits.queuedWorkItems;
  return true;
}

/** The worker gave up (its stream to the sidecar broke and it does not reconnect): its own running flag. */
export const workerStopped = (runtime: WorkflowRuntime | undefined): boolean =>
  workerOf(runtime)?._isRunning === false;

/**
 * The worker logs every work item and turn at info level through
 * `console.info`, about forty lines per saga. This service logs through pino
 * and never calls `console.info` itself, so those lines go to our logger at
 * debug: gone at info, there with LOG_LEVEL=debug (measured:
 * loadtest/RESULTS.md, issue #13). Its warnings and errors still go to the console.
 */
export function quietSdkInfo(log: Logger): void {
  console.info = (...args: unknown[]) => {
    if (log.isLevelEnabled('debug')) log.debug({ sdk: '@dapr/dapr' }, format(...args));
  };
}
