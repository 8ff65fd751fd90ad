/**
 * 835 posting (issue 21): 5,000 sent Claims (500 with --quick) of 1,000 patients, then one `POST /fhir/$process-x12`
 * of an 835 the simulated payer (test/claims/payer.ts) wrote for all of them (paid, deductible, partly paid, denied):
 * seconds to read, balance, match, post (a ClaimResponse, Provenance and stage per claim, Tasks, one
 * PaymentReconciliation) and store the file, and the server's peak memory during it beside its memory before. The
 * Claims are loaded in transaction Bundles, copies of the Claim billing built for the guide's example session, each
 * with its patient control number, as $submit leaves them.
 */
import { peakMemoryFigure, peakRss, postTransaction, type BundleEntry, rssMb, send, startStride, type BenchModule } from './harness.js';
import { simulatePayer } from '../claims/payer.js';
import { loadSentClaims, type LoadClient } from '../claims/load-claims.js';

const post = (port: number, entry: BundleEntry[]) => postTransaction(port, entry, 'remit');

export const remitBench: BenchModule = {
  name: 'remit',
  async run(ctx) {
    const claims = ctx.quick ? 500 : 5000;
    const patients = claims / 5;
    const db = await ctx.freshDatabase();
    const stride = await startStride(ctx, db.env);
    try {
      const client: LoadClient = { transaction: (entry) => post(stride.port, entry), get: async (p) => JSON.parse((await send(stride.port, 'GET', `/fhir/${p}`)).text) };
      const { sent } = await loadSentClaims(client, { claims, patients, date: (k) => `2026-11-${String(2 + Math.floor(k / patients)).padStart(2, '0')}` });
      const { x12, claims: paid } = simulatePayer([{ interchange: '1', group: '1', transactions: ['1'], receiverId: '', usage: 'T', claims: sent }], { seed: 835, trace: 'BENCH-835' });
      ctx.log(`remit: ${claims} claims of ${patients} patients loaded; the 835 is ${(x12.length / 1e6).toFixed(2)} MB, ${paid.filter((p) => p.outcome === 'denied').length} denied`);
      const baseMb = rssMb(stride.pid);
      const started = performance.now();
      const { result, peakMb } = await peakRss(stride, () => send(stride.port, 'POST', '/fhir/$process-x12', x12, { 'content-type': 'application/edi-x12' }));
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 200) throw new Error(`$process-x12: ${result.status} ${result.text.slice(0, 300)}`);
      const posted = JSON.parse((await send(stride.port, 'GET', '/fhir/ClaimResponse?_summary=count')).text).total as number;
      if (posted !== claims) throw new Error(`$process-x12 posted ${posted} ClaimResponses, expected ${claims}`);
      ctx.log(`remit: ${posted} claim payments posted in ${seconds.toFixed(2)} s; RSS ${baseMb.toFixed(0)} -> peak ${peakMb.toFixed(0)} MB`);
      return [
        {
          name: `$process-x12 of an 835 paying ${claims.toLocaleString('en')} claims`,
          value: seconds,
          unit: 's',
          against: claims / 1000,
          againstLabel: 'no target in the issue: 1 ms a claim as a reference',
          better: 'lower',
          note: `${(claims / seconds).toFixed(0)} claims/s: read, balance, match lines, ClaimResponse + Provenance + stage per claim, Tasks, PaymentReconciliation, file stored`,
        },
        peakMemoryFigure(`$process-x12 of an 835 paying ${claims.toLocaleString('en')} claims`, peakMb, baseMb),
      ];
    } finally {
      await stride.stop();
      await db.drop();
    }
  },
};
