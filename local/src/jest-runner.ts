import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, STATE } from './paths.ts';
import { postgres, redis } from './topology.ts';

export interface Counts {
  passed: number;
  failed: number;
}

/**
 * Runs jest on one suite (or several in one run: integration and e2e share the
 * platform their globalSetup starts); returns the pass/fail counts.
 */
export async function jest(
  project: string | string[],
  env: Record<string, string> = {},
  /** Jest's testPathPatterns: only the files whose path matches. */
  testFilter: string[] = [],
): Promise<Counts> {
  const filter = testFilter.length ? ['--passWithNoTests', '--testPathPatterns', ...testFilter] : [];
  const projects = [project].flat();
  const results = join(STATE, 'run', `jest-${projects.join('-')}.json`);
  // A run that fails before its tests (in a globalSetup) writes none: never read an older one.
  rmSync(results, { force: true });
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
        '--selectProjects',
        ...projects,
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
