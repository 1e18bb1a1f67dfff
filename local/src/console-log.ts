/**
 * What `npm start` shows on the console. Every process's output always goes to
 * .shop/logs/<name>.log; the console gets the services' own lines (pino JSON,
 * printed as one readable line on a terminal; not the workflow SDK's per-event
 * chatter), and from the sidecars and the infrastructure only what looks like
 * an error — unless asked for more:
 * `npm start -- --verbose` shows everything, `npm start -- order-dapr kafka`
 * the named processes only (each name matched as a part of the process name).
 */
const INFRA = new Set(['postgres', 'redis', 'kafka', 'placement', 'scheduler', 'sentry', 'zipkin']);

const isService = (name: string) => !INFRA.has(name) && !name.endsWith('-dapr');
/** The Dapr workflow SDK logs every work item at INFO on its own (it ignores the logger options). */
const SDK_CHATTER = /^\S+ (INFO|VERBOSE|DEBUG) \[DurableTask, /;

/** daprd (logfmt or JSON), pino (level ≥ 50), Kafka/log4j, Postgres, and Node's own stack traces. */
const ERROR_LINE =
  /level=(error|fatal)|"level":"(error|fatal)"|"level":(50|60)\b|\b(ERROR|FATAL|PANIC)\b|^\s+at |Error: /;

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const OMITTED = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/** A pino JSON line as `HH:MM:SS LEVEL msg key=value…`; any other line as it is. */
export function prettyLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const level =
    typeof entry.level === 'number'
      ? (LEVELS[entry.level] ?? String(entry.level))
      : String(entry.level ?? '');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const rest = Object.entries(entry)
    .filter(([k]) => !OMITTED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return [time, level.toUpperCase(), String(entry.msg ?? ''), rest].filter(Boolean).join(' ');
}

export interface ConsoleOptions {
  /** Everything from every process. */
  verbose: boolean;
  /** Only the processes whose name contains one of these (all when empty). */
  only: string[];
  /** Print pino JSON as readable lines (a terminal). */
  pretty: boolean;
}

/** The CLI's arguments after `start`: `--verbose`, and names. */
export function consoleOptions(args: string[], pretty: boolean): ConsoleOptions {
  return { verbose: args.includes('--verbose'), only: args.filter((a) => !a.startsWith('--')), pretty };
}

/** The line to print for a process, or undefined to keep it in its log file only. */
export function consoleFilter(options: ConsoleOptions): (name: string, line: string) => string | undefined {
  return (name, line) => {
    const shown = options.only.length
      ? options.only.some((o) => name.includes(o))
      : options.verbose || (isService(name) && !SDK_CHATTER.test(line)) || ERROR_LINE.test(line);
    if (!shown) return undefined;
    return options.pretty && isService(name) ? prettyLine(line) : line;
  };
}
