import { WorkflowRuntime } from '@dapr/dapr';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { Logger } from '@shop/platform';
import { quietSdkInfo, raiseWorkerLimits, workerStopped } from './dapr-sdk-workarounds.ts';

// Built, never started: the constructor opens no connection.
const runtime = () => new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: '1', logger: { level: 1 } });
type Internals = { worker: Record<string, unknown> };

describe('the Dapr SDK workarounds, against the installed @dapr/dapr', () => {
  test('When the worker is built, then it still has its private limits with their defaults, and they can be raised', () => {
    const wf = runtime();
    const worker = (wf as unknown as Internals).worker;
    // Were the fields renamed, the SDK's defaults would no longer be where we write.
    expect(worker._maxConcurrentWorkItems).toBe(10);
    expect(worker._maxQueueSize).toBe(100);
    expect(raiseWorkerLimits(wf, { concurrentWorkItems: 50, queuedWorkItems: 1_000_000 })).toBe(true);
    expect(worker).toMatchObject({ _maxConcurrentWorkItems: 50, _maxQueueSize: 1_000_000 });
  });

  test('When the worker has not started or has stopped, then its running flag says so', () => {
    const wf = runtime();
    expect(typeof (wf as unknown as Internals).worker._isRunning).toBe('boolean');
    expect(workerStopped(wf)).toBe(true);
    (wf as unknown as Internals).worker._isRunning = true;
    expect(workerStopped(wf)).toBe(false);
    expect(workerStopped(undefined)).toBe(false);
  });

  // The SDK's console.info is what is patched: the test calls it as the SDK does.
  const sdkConsole = globalThis.console;
  const consoleInfo = sdkConsole.info;
  afterEach(() => {
    sdkConsole.info = consoleInfo;
  });

  test('When the SDK logs at info, then the line goes to our logger at debug, and nowhere at info', () => {
    const logged: unknown[][] = [];
    const logger = (level: string) =>
      ({
        isLevelEnabled: (l: string) => (l === 'debug' ? level === 'debug' : true),
        debug: (...args: unknown[]) => logged.push(args),
      }) as unknown as Logger;
    quietSdkInfo(logger('info'));
    sdkConsole.info('Received work item %s', 'abc');
    expect(logged).toEqual([]);
    quietSdkInfo(logger('debug'));
    sdkConsole.info('Received work item %s', 'abc');
    expect(logged).toEqual([[{ sdk: '@dapr/dapr' }, 'Received work item abc']]);
  });
});
