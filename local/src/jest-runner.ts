import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, STATE } from './paths.ts';
import { postgres, redis } from './topology.ts';

export interface Counts {
  passed: number;
  failed: number;
}

/** Runs jest on one suite; returns its pass/fail counts. */
export async function jest(
  project: string,
  env: Record<string, string> = {},
  /** Jest's testPathPatterns: only the files whose path matches. */
  testFilter: string[] = [],
): Promise<Counts> {
  const filter = testFilter.length ? ['--passWithNoTests', '--testPathPatterns', ...testFilter] : [];
  const results = join(STATE, 'run', `jest-${project}.json`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
        '--selectProjects',
        project,
        '--runInBand',
        '--json',
        '--outputFile',
        results,
        ...filter,
      ],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: {
          ...process.env,
          SHOP_TEST_POSTGRES_URL: postgres.adminUrl,
          SHOP_TEST_REDIS_URL: redis.url,
          ...env,
        },
      },
    );
    child.once('exit', (c) => resolve(c ?? 1));
  });
  try {
    const summary = JSON.parse(readFileSync(results, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numTotalTestSuites: number;
      numFailedTestSuites: number;
    };
    return {
      passed: summary.numPassedTests,
      failed: summary.numFailedTests + (code !== 0 && summary.numFailedTests === 0 ? 1 : 0),
    };
  } catch {
    return { passed: 0, failed: 1 };
  }
}
