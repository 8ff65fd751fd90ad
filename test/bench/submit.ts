/**
 * Claim/$submit (issue 20): 10,000 ready Claims (1,000 with --quick) of 2,000 patients, 3 payers and one clinic, then
 * one `POST /fhir/Claim/$submit`: seconds to write, check (node-x12 strict), store the three 837P files and record each
 * claim's sending, against the target of 10 s on SQLite; and the server's peak memory during it beside its
 * memory before. The Claims are loaded in transaction Bundles as billing writes them (billing key, patient control
 * number, stage ready), copies of the Claim billing built for the guide's example session, so that loading does not
 * take the minutes 10,000 session writes would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakMemoryFigure, peakRss, postTransaction, type BundleEntry, rssMb, send, startStride, type BenchModule } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = path.join(ROOT, 'profiles/examples/session-complete.json');
const TARGET_SECONDS = 10;

type Entry = BundleEntry;
const post = (port: number, entry: Entry[]) => postTransaction(port, entry, 'submit');

export const submitBench: BenchModule = {
  name: 'submit',
  async run(ctx) {
    const claims = ctx.quick ? 1000 : 10_000;
    const patients = claims / 5;
    const db = await ctx.freshDatabase();
    const stride = await startStride(ctx, db.env);
    try {
      const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
      const setup = await post(stride.port, example.entry);
      const stored = new Map<string, string>(example.entry.map((e: Entry, i: number) => [e.fullUrl, setup[i]!.response.location.split('/_history')[0]]));
      const key = (n: number) => stored.get(`urn:uuid:3f2b6c1e-0000-4000-8000-${String(n).padStart(12, '0')}`)!;
      const claimText = (await send(stride.port, 'GET', `/fhir/Claim?patient=${key(1)}`)).text;
      const template = JSON.parse(claimText).entry[0].resource;
      const payers = [key(8), ...(await post(stride.port, ['Lakeside Health Plan', 'Prairie Medicaid'].map((name, i) => ({ resource: { resourceType: 'Organization', name, identifier: [{ system: 'http://stride-fhir.org/fhir/sid/payer-id', value: `P${i}` }] }, request: { method: 'POST', url: 'Organization' } })))).map((e) => e.response.location.split('/_history')[0]!)];
      const coverage = example.entry.find((e: Entry) => e.resource.resourceType === 'Coverage').resource;
      const patient = example.entry.find((e: Entry) => e.resource.resourceType === 'Patient').resource;
      // Patients and their coverages, 250 a transaction.
      const people: Array<{ patient: string; coverage: string; payer: string }> = [];
      for (let first = 0; first < patients; first += 250) {
        const entry: Entry[] = [];
        for (let k = first; k < Math.min(patients, first + 250); k++) {
          const payer = payers[k % 3]!;
          entry.push({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(2 * k).padStart(12, '0')}`, resource: { ...patient, name: [{ family: `Bench${k}`, given: ['Pat'] }] }, request: { method: 'POST', url: 'Patient' } });
          entry.push({ resource: { ...coverage, subscriberId: `M${k}`, beneficiary: { reference: `urn:uuid:00000000-0000-4000-8000-${String(2 * k).padStart(12, '0')}` }, payor: [{ reference: payer }] }, request: { method: 'POST', url: 'Coverage' } });
        }
        const written = await post(stride.port, entry);
        for (let i = 0; i < written.length; i += 2) {
          people.push({ patient: written[i]!.response.location.split('/_history')[0]!, coverage: written[i + 1]!.response.location.split('/_history')[0]!, payer: payers[(first + i / 2) % 3]! });
        }
      }
      // The Claims, 1,000 a transaction: the example's, per patient and date, as billing would write them.
      const { id: _id, meta: _meta, ...content } = template;
      for (let first = 0; first < claims; first += 1000) {
        const entry: Entry[] = [];
        for (let k = first; k < Math.min(claims, first + 1000); k++) {
          const who = people[k % patients]!;
          const date = `2026-11-${String(2 + Math.floor(k / patients)).padStart(2, '0')}`;
          const id = `bench-claim-${k}`;
          entry.push({
            resource: {
              ...content,
              id,
              identifier: [{ system: 'http://stride-fhir.org/fhir/sid/billing-key', value: `${who.patient}|${date}|${id}` }, { system: 'http://stride-fhir.org/fhir/sid/patient-control-number', value: `B${String(k).padStart(12, '0')}` }],
              extension: [{ url: 'http://stride-fhir.org/fhir/StructureDefinition/claim-stage', valueCode: 'ready' }],
              patient: { reference: who.patient },
              insurer: { reference: who.payer },
              insurance: [{ sequence: 1, focal: true, coverage: { reference: who.coverage } }],
              created: date,
              billablePeriod: { start: date, end: date },
              item: (content.item as Array<Record<string, unknown>>).map((i) => ({ ...i, servicedDate: date })),
            },
            request: { method: 'PUT', url: `Claim/${id}` },
          });
        }
        await post(stride.port, entry);
      }
      ctx.log(`submit: ${claims} ready claims of ${patients} patients loaded`);
      const baseMb = rssMb(stride.pid);
      const started = performance.now();
      const { result, peakMb } = await peakRss(stride, () => send(stride.port, 'POST', '/fhir/Claim/$submit', JSON.stringify({ resourceType: 'Parameters' })));
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 200) throw new Error(`$submit: ${result.status} ${result.text.slice(0, 300)}`);
      const answer = JSON.parse(result.text) as { parameter: Array<{ name: string; valueInteger?: number }> };
      const sent = answer.parameter.find((p) => p.name === 'sent')?.valueInteger ?? 0;
      if (sent !== claims + 1) throw new Error(`$submit sent ${sent} claims, expected ${claims + 1} (the example's too)`);
      ctx.log(`submit: ${sent} claims in ${seconds.toFixed(2)} s; RSS ${baseMb.toFixed(0)} -> peak ${peakMb.toFixed(0)} MB`);
      return [
        {
          name: `$submit of ${claims.toLocaleString('en')} ready claims (3 payers: 3 files)`,
          value: seconds,
          unit: 's',
          against: TARGET_SECONDS * (claims / 10_000),
          againstLabel: 'target (issue 20: 10 s for 10,000 on SQLite)',
          better: 'lower',
          note: `${(sent / seconds).toFixed(0)} claims/s: read, write, check with node-x12, store, record each sending`,
        },
        peakMemoryFigure(`$submit of ${claims.toLocaleString('en')} ready claims`, peakMb, baseMb),
      ];
    } finally {
      await stride.stop();
      await db.drop();
    }
  },
};
