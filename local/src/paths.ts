import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** What is slow to get (Kafka jars, Dapr binaries, k6, helm): kept across clones. */
export const CACHE = process.env.SHOP_CACHE_DIR ?? join(homedir(), '.cache', 'shop-on-dapr');
/** This checkout's running state: data dirs, logs, rendered components, pids. */
export const STATE = process.env.SHOP_STATE_DIR ?? join(ROOT, '.shop');
/** The parts' data (SHOP_DATA_DIR moves it: the chaos suite runs on fresh data of its own). Read when called. */
export const dataDir = (): string => process.env.SHOP_DATA_DIR ?? join(STATE, 'data');
/**
 * Where Postgres and Kafka keep their data: the chaos suite's small filesystem
 * when it has one (SHOP_DISK_DIR), which its full-disk case fills.
 */
export const diskDataDir = (): string => process.env.SHOP_DISK_DIR ?? dataDir();
export const LOGS = join(STATE, 'logs');
export const RUN = join(STATE, 'run');
