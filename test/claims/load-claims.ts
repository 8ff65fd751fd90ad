/**
 * Many sent Claims, fast, for the 835 posting bench and the reconciliation test: the guide's example session posted
 * once (its billing makes the template Claim), then patients with a Coverage each and copies of the template Claim in
 * transaction Bundles, each with its date of service and patient control number, as $submit leaves them; and each
 * claim as the 837P carried it (SentClaim), for the simulated payer (payer.ts) to adjudicate.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SentClaim } from './read-837p.js';

/** The checkout: the first folder above this file with a package.json (from test/claims, or dist/test/claims). */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const EXAMPLE = path.join(projectRoot(), 'profiles/examples/session-complete.json');

export interface Entry {
  fullUrl?: string;
  resource: Record<string, unknown> & { resourceType: string };
  request: { method: string; url: string };
}

export interface LoadClient {
  /** Posts a transaction Bundle of these entries (refused is an error); its response entries. */
  transaction(entry: Entry[]): Promise<Array<{ response: { location: string } }>>;
  /** GET of a path under /fhir, parsed. */
  get(pathAndQuery: string): Promise<any>;
}

export interface LoadedClaim {
  id: string;
  patient: string;
  date: string;
  controlNumber: string;
}

export interface LoadOptions {
  claims: number;
  patients: number;
  /** Claim k's date of service (YYYY-MM-DD). */
  date(k: number): string;
}

const ref = (location: string) => location.split('/_history')[0]!;

export interface Loaded {
  sent: SentClaim[];
  loaded: LoadedClaim[];
  patients: string[];
  /** The example session's own Claim (the template): unsent, owed by its payer in full. */
  example: LoadedClaim & { total: number };
}

export async function loadSentClaims(client: LoadClient, options: LoadOptions): Promise<Loaded> {
  const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
  const setup = await client.transaction(example.entry);
  const stored = new Map<string, string>(example.entry.map((e: Entry, i: number) => [e.fullUrl, ref(setup[i]!.response.location)]));
  const examplePatient = ref(setup[example.entry.findIndex((e: Entry) => e.resource.resourceType === 'Patient')]!.response.location);
  const template = (await client.get(`Claim?patient=${examplePatient}`)).entry[0].resource;
  const coverage = example.entry.find((e: Entry) => e.resource.resourceType === 'Coverage').resource;
  const patient = example.entry.find((e: Entry) => e.resource.resourceType === 'Patient').resource;
  const people: Array<{ patient: string; coverage: string }> = [];
  for (let first = 0; first < options.patients; first += 250) {
    const entry: Entry[] = [];
    for (let k = first; k < Math.min(options.patients, first + 250); k++) {
      const urn = `urn:uuid:00000000-0000-4000-8000-${String(k).padStart(12, '0')}`;
      entry.push({ fullUrl: urn, resource: { ...patient, name: [{ family: `Remit${k}`, given: ['Pat'] }] }, request: { method: 'POST', url: 'Patient' } });
      entry.push({ resource: { ...coverage, subscriberId: `M${k}`, beneficiary: { reference: urn }, payor: coverage.payor.map((p: { reference: string }) => ({ reference: stored.get(p.reference) })) }, request: { method: 'POST', url: 'Coverage' } });
    }
    const written = await client.transaction(entry);
    for (let i = 0; i < written.length; i += 2) people.push({ patient: ref(written[i]!.response.location), coverage: ref(written[i + 1]!.response.location) });
  }
  const { id: _id, meta: _meta, ...content } = template;
  const sent: SentClaim[] = [];
  const loaded: LoadedClaim[] = [];
  for (let first = 0; first < options.claims; first += 1000) {
    const entry: Entry[] = [];
    for (let k = first; k < Math.min(options.claims, first + 1000); k++) {
      const who = people[k % options.patients]!;
      const date = options.date(k);
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
      loaded.push({ id, patient: who.patient, date, controlNumber });
      sent.push({
        controlNumber,
        responsibility: 'P',
        total: content.total.value,
        placeOfService: '11',
        frequency: '1',
        diagnoses: [],
        billingProviderNpi: '',
        payerId: '',
        memberId: `M${k % options.patients}`,
        renderingNpi: '',
        transaction: '1',
        lines: items.map((i) => ({ code: i.productOrService.coding[0].code, modifiers: (i.modifier ?? []).map((m: any) => m.coding[0].code), charge: i.net.value, units: i.quantity.value, date, pointers: [] })),
      });
    }
    await client.transaction(entry);
  }
  const example_ = { id: template.id, patient: examplePatient, date: template.billablePeriod.start, controlNumber: '', total: Math.round(template.total.value * 100) };
  return { sent, loaded, patients: people.map((p) => p.patient), example: example_ };
}
