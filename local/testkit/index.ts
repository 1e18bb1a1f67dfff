/**
 * The test kit: what the end-to-end tests (local/e2e), the chaos suite, the
 * cluster suite (k8s/test) and the benchmarks (loadtest/) share. It imports
 * the local platform's topology and tokens (local/src), never a test suite or
 * a benchmark, so that none of them imports another.
 */
export * from './chart-template.ts';
export * from './coupon-spike-checks.ts';
export * from './drop-crowd.ts';
export * from './invariants.ts';
export * from './kubectl.ts';
export * from './provisioned-tool.ts';
export * from './stack.ts';
