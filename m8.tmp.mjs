import fs from 'node:fs';
const p = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map(); p.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
const names = process.argv.slice(3);
const tot = Object.fromEntries(names.map((n) => [n, 0]));
for (const [id, t] of self) { let cur = id; const seen = new Set(); while (cur !== undefined) { const f = byId.get(cur).callFrame.functionName; if (names.includes(f) && !seen.has(f)) { tot[f] += t; seen.add(f); } cur = parent.get(cur); } }
console.log(Object.fromEntries(Object.entries(tot).map(([k, v]) => [k, (v / 1000).toFixed(0) + ' ms'])));
