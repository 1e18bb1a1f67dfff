import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE } from './paths.ts';
import { aptInstall, onPath, run } from './provision.ts';
import { step } from './ui.ts';

/** The API fuzzer the contract tests run (PyPI), pinned. */
export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * schemathesis in its own virtual environment in the cache, installed from
 * PyPI with pip the first time (about 30 s), reused after. Needs python3 with
 * its venv module (Debian's python3-venv, installed when missing).
 */
export async function ensureSchemathesis(): Promise<string> {
  const venv = join(CACHE, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const bin = join(venv, 'bin', 'schemathesis');
  if (existsSync(bin)) return bin;
  const python = onPath('python3');
  if (!python) await step('installing python3 from apt', () => aptInstall(['python3', 'python3-venv']));
  await step(`installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI (once)`, async () => {
    rmSync(venv, { recursive: true, force: true });
    try {
      await run(python ?? 'python3', ['-m', 'venv', venv]);
    } catch {
      // Debian's python3 comes without ensurepip until python3-venv is there.
      await aptInstall(['python3-venv']);
      rmSync(venv, { recursive: true, force: true });
      await run('python3', ['-m', 'venv', venv]);
    }
    await run(join(venv, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  });
  return bin;
}
