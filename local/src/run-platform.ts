import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { consoleFilter, consoleOptions } from './console-log.ts';
import { startControlServer } from './control.ts';
import { startInfra } from './infra.ts';
import { ROOT } from './paths.ts';
import { provision } from './provision.ts';
import { startServices } from './services.ts';
import { Supervisor, stopLeftovers } from './supervisor.ts';
import { kafka, postgres, redis } from './topology.ts';
import { say, step } from './ui.ts';

/** The parts given from outside (SHOP_*_URL): not provisioned, not started. */
export const external = {
  postgres: Boolean(postgres.externalUrl),
  redis: Boolean(redis.externalUrl),
  kafka: Boolean(kafka.externalBrokers),
};

/**
 * Provisions and starts the infrastructure (and the services with their
 * sidecars when `services`), runs `body`, then stops everything, also on
 * Ctrl-C. What an earlier run left behind is stopped first.
 */
export async function withPlatform(
  services: boolean,
  body: (sup: Supervisor) => Promise<number>,
  /** `run`: logs on the console; `test`: logs in files only, and test settings for the services. */
  mode: 'run' | 'test',
  /** `start -- --verbose`, `start -- <name>…`: what the console shows in `run` mode. */
  consoleArgs: string[] = [],
): Promise<number> {
  const leftovers = await stopLeftovers();
  if (leftovers.length) say(`stopped leftovers of an earlier run: ${leftovers.join(', ')}`);
  const sup = new Supervisor({
    echo: mode === 'run' ? consoleFilter(consoleOptions(consoleArgs, process.stdout.isTTY)) : undefined,
  });
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= step('stopping everything', () => sup.stopAll());
    return stopping;
  };
  const onSignal = () => {
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let control: Server | undefined;
  try {
    const tools = await step('provisioning (cached after the first run)', () =>
      provision({ needExternal: external }),
    );
    await startInfra(sup, tools);
    if (services) await startServices(sup, tools, { test: mode === 'test' });
    control = await startControlServer(sup);
    return await body(sup);
  } catch (err) {
    console.error(`\n${(err as Error).message}`);
    return 1;
  } finally {
    // Nothing of the run is left to keep the process up (Jest's globalTeardown runs in its own).
    control?.close();
    await stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Runs a command with the console attached; resolves with its exit code. */
export function runAttached(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** Runs a command with the console attached; rejects when it fails. */
export function runChecked(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} failed`))));
  });
}

/** KEY=VALUE lines (what k8s/offline/prepare.sh writes) as an object. */
export const readEnvFile = (file: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
