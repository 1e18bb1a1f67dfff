/**
 * Where a Node process's CPU went, from a V8 profile (`node --cpu-prof`): self
 * time summed by where the code lives (our services and platform, each npm
 * package, Node's own internals, GC), busiest first, with the top functions.
 *   NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm start   # then run a benchmark, stop with Ctrl-C
 *   node loadtest/cpu-profile-summary.ts /tmp/prof/CPU.<…>.<pid>.<…>.cpuprofile [--top 25]
 * `.shop/run/pids.json` names the pid of each service (local/src/supervisor.ts, recordedParts).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { table } from '../local/src/ui.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values: args, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' } },
  allowPositionals: true,
});

/** Where a frame's code lives: an npm package, one of our workspaces, Node itself, or V8's own work. */
export function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/services\/([^/]+)\/src\//.exec(url);
  if (ours) return `ours: ${ours[1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return url;
}

function summarise(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += ms;
    const place = placeOf(url, functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => [name, (ms / 1000).toFixed(2), `${((100 * ms) / total).toFixed(1)}%`]);
  return `${file}: ${(total / 1000).toFixed(1)} CPU s (idle excluded)

${table([['where the code lives', 'CPU s', 'share'], ...rows(byPlace)])}

${table([['function', 'CPU s', 'share'], ...rows(byFunction)])}`;
}

for (const file of positionals) console.log(summarise(file, Number(args.top)));
