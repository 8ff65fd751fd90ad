/**
 * Bots (issue 6, DESIGN §8): the latency of one session write (a transaction of Encounter + 3 Procedures + 2
 * Observations, the guide's example session) with the bots and without (an empty bots directory), one request at a
 * time. Target: bots add < 1 ms median. Measured twice: unsigned (the session's signature comes later, so the bot
 * opens one finding: a DetectedIssue and its Provenance are written too) and signed (+ the signature Provenance: no
 * finding). Rounds alternate between the two servers so that machine load drifts hit both alike.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, send, startStride, type BenchContext, type BenchModule, type Child, type Figure } from './harness.js';
import { runLoad } from './load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = path.join(ROOT, 'profiles/examples/session-complete.json');
const SESSION = ['encounter', 'gait', 'exercise', 'activities', 'gaitSpeed', 'tug'];
const SIGNATURE = 'signature';
const NUMBERS: Record<string, number> = { patient: 1, pt: 2, pta: 3, md: 4, ptRole: 5, ptaRole: 6, clinic: 7, payer: 8, coverage: 9, gaitDx: 10, hipDx: 11, episode: 12, plan: 13, encounter: 17, gait: 18, exercise: 19, activities: 20, gaitSpeed: 21, tug: 22, signature: 23 };
const urn = (name: string) => `urn:uuid:3f2b6c1e-0000-4000-8000-${String(NUMBERS[name]).padStart(12, '0')}`;

interface Server {
  label: string;
  child: Child;
  /** The session bundle for request i. */
  body: (i: number) => string;
  latencies: number[];
  drop(): Promise<void>;
}

/** Posts the whole example once (patient, practitioners, plan ...), then returns the session-only bundle builder. */
async function prepare(child: Child, signed: boolean): Promise<(i: number) => string> {
  const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
  const setup = await send(child.port, 'POST', '/fhir', JSON.stringify(example));
  if (setup.status !== 200) throw new Error(`bots bench: the example session was refused: ${setup.status} ${setup.text.slice(0, 300)}`);
  const stored = new Map<string, string>();
  (JSON.parse(setup.text).entry as Array<{ response: { location: string } }>).forEach((e, i) => stored.set(example.entry[i].fullUrl, e.response.location.split('/_history')[0]));
  const names = signed ? [...SESSION, SIGNATURE] : SESSION;
  const template = names.map((name) => example.entry.find((e: { fullUrl: string }) => e.fullUrl === urn(name)));
  const own = new Set(names.map(urn));
  // References to what the setup stored become plain references; the session's own stay urn:uuids (fresh per request).
  const text = JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: template }).replace(/"urn:uuid:3f2b6c1e-[0-9a-f-]+"/g, (quoted) => {
    const ref = quoted.slice(1, -1);
    return own.has(ref) ? quoted : `"${stored.get(ref) ?? ref}"`;
  });
  return (i) => text.replaceAll('urn:uuid:3f2b6c1e-0000-4000-8000-0000000000', `urn:uuid:3f2b6c1e-0000-4000-${(9000 + (i % 1000)).toString()}-${String(i).padStart(10, '0')}`);
}

async function startServer(ctx: BenchContext, label: string, env: Record<string, string>, signed: boolean): Promise<Server> {
  const db = await ctx.freshDatabase();
  const child = await startStride(ctx, { ...db.env, ...env });
  const body = await prepare(child, signed);
  return { label, child, body, latencies: [], drop: async () => (await child.stop(), await db.drop()) };
}

async function measure(ctx: BenchContext, signed: boolean): Promise<Figure> {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-no-bots-'));
  const servers = [await startServer(ctx, 'without bots', { STRIDE_BOTS_DIR: empty }, signed), await startServer(ctx, 'with bots', {}, signed)];
  try {
    const rounds = ctx.quick ? 2 : 4;
    const roundMs = ctx.quick ? 1500 : 4000;
    let offset = 0;
    for (let round = 0; round <= rounds; round++) {
      for (const server of round % 2 ? [...servers].reverse() : servers) {
        const base = offset;
        const r = await runLoad({ url: `http://127.0.0.1:${server.child.port}/fhir`, method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: (i) => server.body(base + i), concurrency: 1, durationMs: roundMs, status: 200 });
        offset += r.requests;
        if (r.errors) throw new Error(`bots bench (${server.label}): ${r.errors} errors ${JSON.stringify(r.statuses)}`);
        if (round > 0) server.latencies.push(...r.latenciesMs); // round 0 warms both servers up
      }
    }
    const [without, withBots] = servers.map((s) => median(s.latencies));
    const added = withBots - without;
    const kind = signed ? 'signed session (E + 3P + 2O + signature): no finding' : 'session E + 3P + 2O: one finding (unsigned)';
    ctx.log(`bots: ${kind}: median ${without.toFixed(2)} ms without, ${withBots.toFixed(2)} ms with bots`);
    return {
      name: `bots: added latency, ${kind}`,
      value: Math.max(added, 0.001),
      unit: 'ms',
      against: 1,
      againstLabel: 'target',
      better: 'lower',
      note: `median ${without.toFixed(2)} ms without bots, ${withBots.toFixed(2)} ms with (${servers[1].latencies.length} writes, one at a time)`,
    };
  } finally {
    for (const s of servers) await s.drop();
    fs.rmSync(empty, { recursive: true, force: true });
  }
}

export const botsBench: BenchModule = {
  name: 'bots',
  async run(ctx) {
    return [await measure(ctx, false), await measure(ctx, true)];
  },
};
