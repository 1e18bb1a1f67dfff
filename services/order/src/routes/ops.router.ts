import { WorkflowRuntimeStatus } from '@dapr/dapr';
import { NotFoundError, Routes } from '@shop/platform';
import { z } from 'zod';
import type { OrderReconciler } from '../saga/reconciler.ts';
import { SELF_TEST_WORKFLOW } from '../saga/self-test.workflow.ts';
import type { Workflows } from '../saga/workflow-runtime.ts';

// An instance id is one path segment of plain characters (ours are UUIDs): daprd refuses others itself, as a 500.
const instanceParams = z.object({ instanceId: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/) });

/** Operator endpoints: the workflow self-test, and what the order reconciler did. */
export function opsRoutes(workflows: Workflows, reconciler: OrderReconciler): Routes {
  return new Routes()
    .add(
      {
        method: 'get',
        path: '/ops/reconciler',
        summary: 'What the order reconciler did',
        responses: { 200: { description: 'Passes, counts per action, the last orders' } },
      },
      async (ctx) => {
        ctx.body = reconciler.stats;
      },
    )
    .add(
      {
        method: 'post',
        path: '/ops/workflow-self-test',
        summary: 'Starts a two-activity workflow that checks the workflow engine',
        responses: { 202: { description: '`{instanceId}`' } },
      },
      async (ctx) => {
        const instanceId = await workflows.client.scheduleNewWorkflow(SELF_TEST_WORKFLOW);
        ctx.status = 202;
        ctx.set('location', `/ops/workflow-self-test/${instanceId}`);
        ctx.body = { instanceId };
      },
    )
    .add(
      {
        method: 'get',
        path: '/ops/workflow-self-test/:instanceId',
        summary: 'The self-test’s state',
        params: instanceParams,
        responses: { 200: { description: '`{instanceId, status, output, failure}`' } },
      },
      async (ctx, { params }) => {
        const { instanceId } = params;
        const state = await workflows.client.getWorkflowState(instanceId, true);
        if (!state) throw new NotFoundError('workflow instance', instanceId);
        ctx.body = {
          instanceId,
          status: WorkflowRuntimeStatus[state.runtimeStatus],
          output: state.serializedOutput ? JSON.parse(state.serializedOutput) : null,
          failure: state.workflowFailureDetails?.getErrorMessage() ?? null,
        };
      },
    );
}
