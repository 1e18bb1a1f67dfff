import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** What is slow to get (Kafka jars, Dapr binaries, k6, helm): kept across clones. */
export const CACHE = process.env.SHOP_CACHE_DIR ?? join(homedir(), '.cache', 'shop-on-dapr');
/** This checkout's running state: data dirs, logs, rendered components, pids. */
export const STATE = process.env.SHOP_STATE_DIR ?? join(ROOT, '.shop');
export const DATA = join(STATE, 'data');
export const LOGS = join(STATE, 'logs');
export const RUN = join(STATE, 'run');
