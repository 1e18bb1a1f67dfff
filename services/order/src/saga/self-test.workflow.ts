import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { type DaprSidecar, type EntityManager, pingDatabase } from '@shop/platform';
import type { WorkflowRegistration } from './workflow-runtime.ts';

export const SELF_TEST_WORKFLOW = 'selfTestWorkflow';

export interface SelfTestResult {
  database: string;
  sidecar: string;
}

/**
 * A two-activity workflow an operator (or the end-to-end suite) can start to
 * check that the workflow engine works on this deployment: the scheduler,
 * placement and the actor state store behind it, and the worker in this app.
 */
export function selfTestRegistration(deps: {
  em: EntityManager;
  sidecar: DaprSidecar;
}): WorkflowRegistration {
  const checkDatabase = async (_: WorkflowActivityContext): Promise<string> => {
    await pingDatabase(deps.em);
    return 'ok';
  };
  const checkSidecar = async (_: WorkflowActivityContext): Promise<string> =>
    (await deps.sidecar.isHealthy()) ? 'ok' : 'unavailable';

  const selfTestWorkflow: TWorkflow = async function* (
    ctx: WorkflowContext,
  ): AsyncGenerator<unknown, SelfTestResult> {
    const database = (yield ctx.callActivity(checkDatabase)) as string;
    const sidecar = (yield ctx.callActivity(checkSidecar)) as string;
    return { database, sidecar };
  } as unknown as TWorkflow;

  return {
    workflows: { [SELF_TEST_WORKFLOW]: selfTestWorkflow },
    activities: { checkDatabase, checkSidecar },
  };
}
