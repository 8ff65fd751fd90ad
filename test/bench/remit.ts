/**
 * 835 posting (issue 21): 5,000 sent Claims (500 with --quick) of 1,000 patients, then one `POST /fhir/$process-x12`
 * of an 835 the simulated payer (test/claims/payer.ts) wrote for all of them (paid, deductible, partly paid, denied):
 * seconds to read, balance, match, post (a ClaimResponse, Provenance and stage per claim, Tasks, one
 * PaymentReconciliation) and store the file, and the server's peak memory during it beside its memory before. The
 * Claims are loaded in transaction Bundles, copies of the Claim billing built for the guide's example session, each
 * with its patient control number, as $submit leaves them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakMemoryFigure, peakRss, postTransaction, type BundleEntry, rssMb, send, startStride, type BenchModule } from './harness.js';
import { simulatePayer } from '../claims/payer.js';
import type { SentClaim } from '../claims/read-837p.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = path.join(ROOT, 'profiles/examples/session-complete.json');

type Entry = BundleEntry;
const post = (port: number, entry: Entry[]) => postTransaction(port, entry, 'remit');

const ref = (location: string) => location.split('/_history')[0]!;

export const remitBench: BenchModule = {
  name: 'remit',
  async run(ctx) {
    const claims = ctx.quick ? 500 : 5000;
    const patients = claims / 5;
    const db = await ctx.freshDatabase();
    const stride = await startStride(ctx, db.env);
    try {
      const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
      const setup = await post(stride.port, example.entry);
      const stored = new Map<string, string>(example.entry.map((e: Entry, i: number) => [e.fullUrl, ref(setup[i]!.response.location)]));
      const patientRef = ref(setup[example.entry.findIndex((e: Entry) => e.resource.resourceType === 'Patient')]!.response.location);
      const template = JSON.parse((await send(stride.port, 'GET', `/fhir/Claim?patient=${patientRef}`)).text).entry[0].resource;
      const coverage = example.entry.find((e: Entry) => e.resource.resourceType === 'Coverage').resource;
      const patient = example.entry.find((e: Entry) => e.resource.resourceType === 'Patient').resource;
      const people: Array<{ patient: string; coverage: string }> = [];
      for (let first = 0; first < patients; first += 250) {
        const entry: Entry[] = [];
        for (let k = first; k < Math.min(patients, first + 250); k++) {
          const urn = `urn:uuid:00000000-0000-4000-8000-${String(k).padStart(12, '0')}`;
          entry.push({ fullUrl: urn, resource: { ...patient, name: [{ family: `Remit${k}`, given: ['Pat'] }] }, request: { method: 'POST', url: 'Patient' } });
          entry.push({ resource: { ...coverage, subscriberId: `M${k}`, beneficiary: { reference: urn }, payor: coverage.payor.map((p: { reference: string }) => ({ reference: stored.get(p.reference) })) }, request: { method: 'POST', url: 'Coverage' } });
        }
        const written = await post(stride.port, entry);
        for (let i = 0; i < written.length; i += 2) people.push({ patient: ref(written[i]!.response.location), coverage: ref(written[i + 1]!.response.location) });
      }
      const { id: _id, meta: _meta, ...content } = template;
      const sent: SentClaim[] = [];
      for (let first = 0; first < claims; first += 1000) {
        const entry: Entry[] = [];
        for (let k = first; k < Math.min(claims, first + 1000); k++) {
          const who = people[k % patients]!;
          const date = `2026-11-${String(2 + Math.floor(k / patients)).padStart(2, '0')}`;
          const id = `remit-claim-${k}`;
          const controlNumber = `R${String(k).padStart(12, '0')}`;
          const items: Array<Record<string, any>> = (content.item as Array<Record<string, any>>).map((i) => ({ ...i, servicedDate: date }));
          entry.push({
            resource: {
              ...content,
              id,
              identifier: [{ system: 'http://stride-fhir.org/fhir/sid/billing-key', value: `${who.patient}|${date}|${id}` }, { system: 'http://stride-fhir.org/fhir/sid/patient-control-number', value: controlNumber }],
              patient: { reference: who.patient },
              insurance: [{ sequence: 1, focal: true, coverage: { reference: who.coverage } }],
              created: date,
              billablePeriod: { start: date, end: date },
              item: items,
            },
            request: { method: 'PUT', url: `Claim/${id}` },
          });
          sent.push({
            controlNumber,
            responsibility: 'P',
            total: content.total.value,
            placeOfService: '11',
            frequency: '1',
            diagnoses: [],
            billingProviderNpi: '',
            payerId: '',
            memberId: `M${k % patients}`,
            renderingNpi: '',
            transaction: '1',
            lines: items.map((i) => ({ code: i.productOrService.coding[0].code, modifiers: (i.modifier ?? []).map((m: any) => m.coding[0].code), charge: i.net.value, units: i.quantity.value, date, pointers: [] })),
          });
        }
        await post(stride.port, entry);
      }
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
