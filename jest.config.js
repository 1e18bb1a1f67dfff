// Four suites: unit (no I/O, next to the code), k8s (the chart, scripts and
// Tiltfile against a real kube-apiserver, helm and tilt), integration (real
// Postgres and Redis), e2e (the whole local platform, real daprd and Kafka).
// Each suite's globalSetup (local/src/jest-setup/) provisions and starts what it
// needs, so `npx jest <file>` runs one file as `npm test` runs them all.
import { spawnSync } from 'node:child_process';
import vm from 'node:vm';

// The tests are ES modules, which Jest runs only on Node's VM modules (a flag):
// without it (a plain `npx jest`), Jest is run again with it.
if (typeof vm.SyntheticModule !== 'function') {
  const again = spawnSync(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--disable-warning=ExperimentalWarning',
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit' },
  );
  process.exit(again.status ?? 1);
}

const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } },
];
const common = {
  transform: { '^.+\\.ts$': swc },
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  // Local state (.shop/: data, logs, the offline kind route's dockerd) is not source.
  modulePathIgnorePatterns: ['<rootDir>/.shop/'],
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/services/*/src/**/*.test.ts',
        '<rootDir>/local/src/**/*.test.ts',
        '<rootDir>/local/testkit/**/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'k8s',
      testMatch: ['<rootDir>/k8s/test/**/*.k8s.test.ts'],
      globalSetup: '<rootDir>/local/src/jest-setup/k8s.ts',
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/services/*/test/**/*.int.test.ts', '<rootDir>/local/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/local/src/jest-setup/integration.ts',
      globalTeardown: '<rootDir>/local/src/jest-setup/teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/local/e2e/**/*.e2e.test.ts'],
      globalSetup: '<rootDir>/local/src/jest-setup/e2e.ts',
      globalTeardown: '<rootDir>/local/src/jest-setup/teardown.ts',
    },
    // `npm run test:cluster`: the chart on a real kind cluster made by k8s/kind/up.sh.
    { ...common, displayName: 'cluster', testMatch: ['<rootDir>/k8s/test/**/*.cluster.test.ts'] },
  ],
};
