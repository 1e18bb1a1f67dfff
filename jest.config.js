// Four suites: unit (no I/O, next to the code), k8s (the chart, scripts and
// Tiltfile against a real kube-apiserver, helm and tilt), integration (real
// Postgres and Redis), e2e (the whole local platform, real daprd and Kafka).
// `npm test` runs them in that order through local/src/commands/test.ts, which starts
// what each needs.
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
    { ...common, displayName: 'k8s', testMatch: ['<rootDir>/k8s/test/**/*.k8s.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/services/*/test/**/*.int.test.ts', '<rootDir>/local/test/**/*.int.test.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/local/e2e/**/*.e2e.test.ts'] },
    // `npm run test:cluster`: the chart on a real kind cluster made by k8s/kind/up.sh.
    { ...common, displayName: 'cluster', testMatch: ['<rootDir>/k8s/test/**/*.cluster.test.ts'] },
  ],
};
