/**
 * `node dist/test/bench/profile.js FILE.cpuprofile [N] [--under NAME]`: the top N functions of a V8 CPU profile (as
 * written by `npm run bench -- --cpu-prof DIR`) by self and by total time, and self time per package or source
 * folder. Start-up is left out: samples count from the first one taken inside a request (a stack through
 * `handleFhir`). `--under NAME` counts only samples with a function named NAME on the stack.
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const src = /\/dist\/(src\/[^/]+|test\/[^/]+)/.exec(url);
  if (src) return src[1];
  return url.startsWith('node:') ? url : url === '' ? '(native/gc/idle)' : url.replace(/^.*\//, '');
}

function main(): void {
  const args = process.argv.slice(2);
  const underAt = args.indexOf('--under');
  const under = underAt >= 0 ? args.splice(underAt, 2)[1] : undefined;
  const [file, top = '25'] = args;
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inside = (id: number | undefined, name: string): boolean => {
    for (; id !== undefined; id = parent.get(id)) if (byId.get(id)!.callFrame.functionName === name) return true;
    return false;
  };
  const first = Math.max(0, profile.samples.findIndex((id) => inside(id, 'handleFhir')));
  const self = new Map<number, number>();
  const keyOf = (id: number): string => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    return `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`;
  };
  /** Time with the function anywhere on the stack (counted once per sample). */
  const inclusive = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    if (i < first || (under && !inside(id, under))) return;
    const us = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + us);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) seen.add(keyOf(n));
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const places = new Map<string, number>();
  for (const [id, us] of self) {
    const key = keyOf(id);
    fns.set(key, (fns.get(key) ?? 0) + us);
    const place = where(byId.get(id)!.callFrame.url);
    places.set(place, (places.get(place) ?? 0) + us);
  }
  const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${pct(idle)} idle\n\nself time by function:\n`);
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) process.stdout.write(`${pct(us)}  ${k}\n`);
  process.stdout.write('\ntotal time (self and callees) by function:\n');
  for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) process.stdout.write(`${pct(us)}  ${k}\n`);
  process.stdout.write('\nself time by package or folder:\n');
  for (const [k, us] of [...places].sort((a, b) => b[1] - a[1]).slice(0, 20)) process.stdout.write(`${pct(us)}  ${k}\n`);
}

main();
