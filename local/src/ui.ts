/** Progress output of the runner: one line when a step starts, one when it ends. */
const colors = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];
const tty = process.stdout.isTTY;
const paint = (code: number, text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);

export const say = (text: string) => console.log(`${paint(1, '[shop]')} ${text}`);

export async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  say(`${title}…`);
  try {
    const result = await fn();
    say(`${paint(32, '✓')} ${title} (${((performance.now() - started) / 1000).toFixed(1)}s)`);
    return result;
  } catch (err) {
    say(`${paint(31, '✗')} ${title}: ${(err as Error).message}`);
    throw err;
  }
}

let next = 0;
const assigned = new Map<string, number>();
/** A coloured, padded `[name]` prefix for a process's log lines. */
export function prefix(name: string): string {
  if (!assigned.has(name)) assigned.set(name, colors[next++ % colors.length]!);
  return paint(assigned.get(name)!, `${name.padEnd(14)}|`);
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}
