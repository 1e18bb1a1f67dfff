import { provision } from '../provision.ts';
import { provisionK8sTools } from '../provision-k8s.ts';
import { external } from '../run-platform.ts';
import { step } from '../ui.ts';

/** The k8s suite's globalSetup: real helm, kube-apiserver, kubectl, tilt and kube-score (cached after the first run). */
export default async function k8sSetup(): Promise<void> {
  const tools = await step('provisioning (cached after the first run)', () =>
    provision({ needExternal: external }),
  );
  const k8s = await step('provisioning the Kubernetes checks (cached after the first run)', () =>
    provisionK8sTools(),
  );
  Object.assign(process.env, {
    SHOP_HELM: tools.helm,
    SHOP_KUBE_BIN: k8s.kubeBin,
    SHOP_KUBECTL: k8s.kubectl,
    SHOP_TILT: k8s.tilt,
    SHOP_KUBE_SCORE: k8s.kubeScore,
    SHOP_PROMTOOL: k8s.promtool,
    SHOP_DAPR_CHART: k8s.daprChart,
  });
}
