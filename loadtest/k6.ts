import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, RUN } from '../local/src/paths.ts';

/** What k6 writes with handleSummary: its metrics and how long the run took. */
export interface K6Summary {
  // biome-ignore lint/suspicious/noExplicitAny: k6's metric objects, read by name
  metrics: Record<string, { values: Record<string, any> }>;
  state: { testRunDurationMs: number };
}

/**
 * Runs a scenario of loadtest/ with `-e` variables, passing it SUMMARY_FILE,
 * and returns the summary it wrote. `duringRun` starts alongside (a kill, say).
 */
export async function runK6(
  k6: string,
  script: string,
  env: Record<string, string>,
  duringRun?: () => void,
): Promise<K6Summary> {
  const summaryFile = join(RUN, `k6-${script.replace(/\.js$/, '')}-${Date.now()}.json`);
  const vars = Object.entries({ ...env, SUMMARY_FILE: summaryFile }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(k6, ['run', '--quiet', ...vars, join(ROOT, 'loadtest', script)], {
      stdio: 'inherit',
    });
    duringRun?.();
    child.once('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error(`k6 exited with ${code}`);
  return JSON.parse(readFileSync(summaryFile, 'utf8')) as K6Summary;
}
