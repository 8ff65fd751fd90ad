/**
 * Bots (issue 6, DESIGN §8): the latency of one session write (a transaction of Encounter + 3 Procedures + 2
 * Observations, the guide's example session) with the documentation bot and without bots (an empty bots directory),
 * one request at a time. Target: bots add < 1 ms median. Issue 7: the same finished-session write with the billing
 * bot too (claim generation): its median latency and sessions/s beside the write without bots. Measured twice: unsigned (the session's signature comes later, so the bot
 * opens one finding: a DetectedIssue and its Provenance are written too) and signed (+ the signature Provenance: no
 * finding). The server with the documentation bot alternates with the one without in many short rounds, and the
 * added latency is the median over rounds of the difference between the two, each pair a few seconds apart: drifts in
 * the machine's load (other processes, a noisy host) hit both sides of a pair alike. Then the server with both bots
 * alternates with the one without. Besides wall-clock latency, the server's own CPU time per write is reported.
 * Each server first runs WARM_MS of session writes unmeasured: a new process keeps compiling its code for its first few
 * thousand writes (V8's optimizing compiler, on helper threads; traced in-process: 443 optimizations in the first
 * 1,000 writes with the documentation bot, 183, 126, 57, then 31 per 1,000), which a server in service has long done;
 * measured during it, the bot's added CPU was half compilation of its own code. Sessions rotate over PATIENTS
 * patients (each with the example's coverage, diagnoses, episode of care and plan) and over DATES dates of service,
 * so that a patient sees a few sessions on a few dates, as in a clinic: not hundreds on one day for one patient, which
 * would rightly raise the frequency-review finding, and which billing by the date of service (issue 26) would pool into
 * one Claim of thousands of visits. Request i is patient i % PATIENTS on date DATES[floor(i / PATIENTS) % DATES.length]:
 * at most a visit or two per patient and date, at most 8 treatment days per episode.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, send, startStride, type BenchContext, type BenchModule, type Child, type Figure } from './harness.js';
import { runLoad } from './load.js';
import { analyzeDatabase } from './plan.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = path.join(ROOT, 'profiles/examples/session-complete.json');
const SESSION = ['encounter', 'gait', 'exercise', 'activities', 'gaitSpeed', 'tug'];
const SIGNATURE = 'signature';
const NUMBERS: Record<string, number> = { patient: 1, pt: 2, pta: 3, md: 4, ptRole: 5, ptaRole: 6, clinic: 7, payer: 8, coverage: 9, gaitDx: 10, hipDx: 11, episode: 12, plan: 13, walkGoal: 14, stairsGoal: 15, priorLevel: 16, encounter: 17, gait: 18, exercise: 19, activities: 20, gaitSpeed: 21, tug: 22, signature: 23 };
const urn = (name: string) => `urn:uuid:3f2b6c1e-0000-4000-8000-${String(NUMBERS[name]).padStart(12, '0')}`;
/** Patients the sessions rotate over: ~9,000 sessions per server give each episode of care ~9 visits (12 would raise frequency review). */
const PATIENTS = 1000;
/** The dates of service the sessions rotate over (within the example's plan of care, fewer than 10 treatment days). */
const DATES = ['2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19'];
/** The example's resources of one patient, copied for each of PATIENTS; the rest (therapists, clinic, payer) is shared. */
const PER_PATIENT = ['patient', 'coverage', 'gaitDx', 'hipDx', 'episode', 'plan', 'walkGoal', 'stairsGoal', 'priorLevel'];
/** Unmeasured writes per server before its first measured round: ~4,000 session writes. */
const WARM_MS = 40_000;

interface Server {
  label: string;
  child: Child;
  /** The session bundle for request i. */
  body: (i: number) => string;
  drop(): Promise<void>;
  /** Its database (for ANALYZE on PostgreSQL). */
  env: Record<string, string>;
  /** It ran its warm-up (WARM_MS). */
  warm?: boolean;
  analyzed?: boolean;
}

/** One server's measured rounds in an alternation with another. */
interface Rounds {
  latencies: number[];
  /** Median latency of each round (paired with the other server's round of the same index). */
  medians: number[];
  /** Server CPU milliseconds per write, one figure per round. */
  cpu: number[];
  /** Wall-clock milliseconds spent in requests. */
  busyMs: number;
}

/**
 * Posts the whole example once (therapists, clinic, payer ...) and PATIENTS copies of its patient's own resources,
 * then returns the session-only bundle builder: request i is patient i % PATIENTS on its date (see above).
 */
async function prepare(child: Child, signed: boolean): Promise<(i: number) => string> {
  const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
  const setup = await send(child.port, 'POST', '/fhir', JSON.stringify(example));
  if (setup.status !== 200) throw new Error(`bots bench: the example session was refused: ${setup.status} ${setup.text.slice(0, 300)}`);
  const stored = new Map<string, string>();
  (JSON.parse(setup.text).entry as Array<{ response: { location: string } }>).forEach((e, i) => stored.set(example.entry[i].fullUrl, e.response.location.split('/_history')[0]));
  const patients = await createPatients(child, example, stored);
  const names = signed ? [...SESSION, SIGNATURE] : SESSION;
  const template = names.map((name) => example.entry.find((e: { fullUrl: string }) => e.fullUrl === urn(name)));
  const own = new Set(names.map(urn));
  const perPatient = new Set(PER_PATIENT.map(urn));
  // References to the shared resources the setup stored become plain references; a patient's own are placeholders
  // filled per request; the session's own stay urn:uuids (fresh per request).
  const text = JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: template }).replace(/"urn:uuid:3f2b6c1e-[0-9a-f-]+"/g, (quoted) => {
    const ref = quoted.slice(1, -1);
    return own.has(ref) ? quoted : perPatient.has(ref) ? `"@${ref}"` : `"${stored.get(ref) ?? ref}"`;
  });
  return (i) => {
    const refs = patients[i % patients.length]!;
    const date = DATES[Math.floor(i / patients.length) % DATES.length]!;
    return text
      .replace(/"@(urn:uuid:[0-9a-f-]+)"/g, (_q, ref: string) => `"${refs.get(ref)}"`)
      .replaceAll('2026-11-10', date)
      .replaceAll('urn:uuid:3f2b6c1e-0000-4000-8000-0000000000', `urn:uuid:3f2b6c1e-0000-4000-${(9000 + (i % 1000)).toString()}-${String(i).padStart(10, '0')}`);
  };
}

/** PATIENTS copies of the example's patient and her own resources (PER_PATIENT), 50 patients a transaction. */
async function createPatients(child: Child, example: { entry: Array<{ fullUrl: string; resource: object; request: object }> }, stored: Map<string, string>): Promise<Array<Map<string, string>>> {
  const own = example.entry.filter((e) => PER_PATIENT.some((name) => urn(name) === e.fullUrl));
  const patients: Array<Map<string, string>> = [];
  for (let first = 0; first < PATIENTS; first += 50) {
    const copies = Array.from({ length: Math.min(50, PATIENTS - first) }, (_, c) => first + c);
    const entry = copies.flatMap((k) =>
      own.map((e) => {
        // Each copy is a patient of its own: without the example's ifNoneExist, which would match the first one.
        const text = JSON.stringify({ ...e, request: { method: 'POST', url: (e.request as { url: string }).url } }).replace(/"urn:uuid:3f2b6c1e-0000-4000-8000-0000000000(\d\d)"/g, (quoted, n: string) => {
          const ref = quoted.slice(1, -1);
          return PER_PATIENT.some((name) => urn(name) === ref) ? `"urn:uuid:3f2b6c1e-0000-4000-a${n}0-${String(k).padStart(12, '0')}"` : `"${stored.get(ref) ?? ref}"`;
        });
        return JSON.parse(text);
      }),
    );
    const reply = await send(child.port, 'POST', '/fhir', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }));
    if (reply.status !== 200) throw new Error(`bots bench: patients refused: ${reply.status} ${reply.text.slice(0, 300)}`);
    const locations = (JSON.parse(reply.text).entry as Array<{ response: { location: string } }>).map((e) => e.response.location.split('/_history')[0]!);
    copies.forEach((_k, c) => patients.push(new Map(own.map((e, j) => [e.fullUrl, locations[c * own.length + j]!]))));
  }
  return patients;
}

async function startServer(ctx: BenchContext, label: string, env: Record<string, string>, signed: boolean): Promise<Server> {
  const db = await ctx.freshDatabase();
  const child = await startStride(ctx, { ...db.env, ...env });
  const body = await prepare(child, signed);
  return { label, child, body, env: db.env, drop: async () => (await child.stop(), await db.drop()) };
}

/** A bots directory holding only the documentation bot (a symlink to the compiled one), for the issue 6 figure. */
function documentationOnly(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-doc-bot-'));
  fs.symlinkSync(path.join(ROOT, 'dist/bots/documentation-97116'), path.join(dir, 'documentation-97116'), 'dir');
  return dir;
}

async function measure(ctx: BenchContext, signed: boolean): Promise<Figure[]> {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-no-bots-'));
  const docOnly = documentationOnly();
  const servers = [
    await startServer(ctx, 'without bots', { STRIDE_BOTS_DIR: empty }, signed),
    await startServer(ctx, 'documentation bot', { STRIDE_BOTS_DIR: docOnly }, signed),
    await startServer(ctx, 'documentation and billing bots', {}, signed),
  ];
  try {
    // Two servers at a time, strictly alternating (A B A B ...), in many short rounds: a figure is the median over
    // rounds of the difference between the two servers' rounds, run seconds apart, so drifts in the machine's load
    // cancel out, and each server always follows the other, so neither is favoured by the order. A server that sat
    // idle while the other ran starts its round cold (caches, CPU state): each round's first writes warm it up and are
    // not counted, as a server in use is not idle between sessions.
    let offset = 0;
    const alternate = async (a: Server, b: Server, rounds: number): Promise<[Rounds, Rounds]> => {
      const roundMs = ctx.quick ? 600 : 1500;
      const out: [Rounds, Rounds] = [
        { latencies: [], medians: [], cpu: [], busyMs: 0 },
        { latencies: [], medians: [], cpu: [], busyMs: 0 },
      ];
      for (let round = 0; round <= rounds; round++) {
        for (const [k, server] of [a, b].entries()) {
          const load = async (durationMs: number) => {
            const base = offset;
            const r = await runLoad({ url: `http://127.0.0.1:${server.child.port}/fhir`, method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: (i) => server.body(base + i), concurrency: 1, durationMs, status: 200 });
            offset += r.requests;
            if (r.errors) throw new Error(`bots bench (${server.label}): ${r.errors} errors ${JSON.stringify(r.statuses)}`);
            return r;
          };
          if (round === 0) {
            // Round 0 warms the servers up: the first time a server runs, for WARM_MS (see above).
            await load(server.warm ? roundMs : ctx.quick ? 3000 : WARM_MS);
            server.warm = true;
            continue;
          }
          await load(300);
          const cpuBefore = server.child.cpuMs();
          const r = await load(roundMs);
          const cpuAfter = server.child.cpuMs();
          const into = out[k];
          into.latencies.push(...r.latenciesMs);
          into.medians.push(median(r.latenciesMs));
          into.busyMs += r.latenciesMs.reduce((x, y) => x + y, 0);
          if (cpuBefore !== undefined && cpuAfter !== undefined) into.cpu.push((cpuAfter - cpuBefore) / r.requests);
        }
        // After the warm-up, fresh planner statistics on PostgreSQL, as autovacuum would gather them in service (it
        // is off on these machines): unanalyzed, the tables grown by ~4,000 sessions made the bot's searches ~6x slower
        // (in-process, 2,000 writes: the hook 29 ms before ANALYZE, 4.7 ms after).
        if (round === 0 && ctx.db === 'postgres') {
          for (const server of [a, b]) {
            if (!server.analyzed) await analyzeDatabase(server.env);
            server.analyzed = true;
          }
        }
      }
      return out;
    };
    const pairedMedian = (x: number[], y: number[]) => (x.length && y.length ? median(x.map((v, i) => v - y[i])) : NaN);
    /** The middle half of the per-round differences (how much the rounds agree). */
    const spread = (x: number[], y: number[]) => {
      const d = x.map((v, i) => v - y[i]).sort((a, b) => a - b);
      return d.length ? `${d[Math.floor(d.length / 4)].toFixed(2)} to ${d[Math.floor((3 * d.length) / 4)].toFixed(2)} ms` : 'n/a';
    };
    const [base, doc] = await alternate(servers[0], servers[1], ctx.quick ? 6 : 16);
    const [base2, all] = await alternate(servers[0], servers[2], ctx.quick ? 3 : 8);
    const without = median(base.latencies);
    const documentation = median(doc.latencies);
    const cpuWithout = median(base.cpu);
    const cpuDoc = median(doc.cpu);
    const addedLatency = pairedMedian(doc.medians, base.medians);
    const addedCpu = pairedMedian(doc.cpu, base.cpu);
    const allLatency = median(all.latencies);
    const without2 = median(base2.latencies);
    const cpuAll = median(all.cpu);
    const kind = signed ? 'signed session (E + 3P + 2O + signature): no finding' : 'session E + 3P + 2O: one finding (unsigned)';
    ctx.log(`bots: ${kind}: median ${without.toFixed(2)} ms without, ${documentation.toFixed(2)} ms documentation bot (adds ${addedLatency.toFixed(2)} ms, CPU ${addedCpu.toFixed(2)} ms, medians of paired rounds); ${allLatency.toFixed(2)} ms documentation + billing beside ${without2.toFixed(2)} ms without; server CPU per write ${cpuWithout.toFixed(2)} / ${cpuDoc.toFixed(2)} / ${cpuAll.toFixed(2)} ms`);
    const writes = `${doc.latencies.length} writes, one at a time`;
    const perSecond = (r: Rounds) => (r.latencies.length / r.busyMs) * 1000;
    const claim = signed ? 'an active Claim, 3 ChargeItems and their Provenances' : 'a draft Claim held by the open finding, 3 ChargeItems and their Provenances';
    return [
      {
        name: `bots: documentation bot, added latency, ${kind}`,
        value: Math.max(addedLatency, 0.001),
        unit: 'ms',
        against: 1,
        againstLabel: 'target',
        better: 'lower',
        note: `median of ${doc.medians.length} paired rounds (middle half ${spread(doc.medians, base.medians)}); overall medians ${without.toFixed(2)} ms without bots, ${documentation.toFixed(2)} ms with (${writes})`,
      },
      {
        name: `bots: documentation bot, added server CPU per write, ${kind}`,
        value: Math.max(addedCpu, 0.001),
        unit: 'ms',
        against: 1,
        againstLabel: 'target',
        better: 'lower',
        note: `median of paired rounds (middle half ${spread(doc.cpu, base.cpu)}); per write ${cpuWithout.toFixed(2)} ms without bots, ${cpuDoc.toFixed(2)} ms with (medians of rounds)`,
      },
      {
        name: `billing: finished-session write with claim generation, median latency, ${kind}`,
        value: allLatency,
        unit: 'ms',
        against: without2,
        againstLabel: 'same write without bots',
        better: 'lower',
        note: `writes ${claim}; documentation bot alone ${documentation.toFixed(2)} ms; server CPU ${cpuAll.toFixed(2)} ms per write`,
      },
      {
        name: `billing: finished sessions/s with claim generation, ${kind}`,
        value: perSecond(all),
        unit: '/s',
        against: perSecond(base2),
        againstLabel: 'same writes without bots',
        better: 'higher',
        note: 'one request at a time',
      },
    ];
  } finally {
    for (const s of servers) await s.drop();
    fs.rmSync(empty, { recursive: true, force: true });
    fs.rmSync(docOnly, { recursive: true, force: true });
  }
}

export const botsBench: BenchModule = {
  name: 'bots',
  async run(ctx) {
    return [...(await measure(ctx, false)), ...(await measure(ctx, true))];
  },
};
