/**
 * Searches an analyst runs over the Synthea data (issue 3, Show): the counts equal a plain scan of the same files.
 * The bundles are POSTed as transactions, so the server assigns ids; the scan maps each file's urn:uuid fullUrls to
 * the ids the transaction responses report.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Encounter, Observation, Patient, Procedure, Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { syntheaFiles, syntheaMissing } from '../support/synthea.js';
import { fhir } from '../support/http.js';
import { keys, link, search } from './support.js';

const LOINC = 'http://loinc.org';
const BODY_WEIGHT = '29463-7';
const SYSTOLIC = '8480-6';

interface Loaded {
  /** Every resource as stored: urn:uuid references rewritten to Type/id. */
  resources: Resource[];
}

async function loadSynthea(baseUrl: string): Promise<Loaded> {
  const resources: Resource[] = [];
  for (const file of syntheaFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    const r = await fetch(baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: text });
    const reply = (await r.json()) as Bundle;
    expect(r.status, file).toBe(200);
    const bundle = JSON.parse(text) as Bundle;
    const ids = new Map<string, string>();
    bundle.entry?.forEach((e, i) => {
      const location = reply.entry?.[i].response?.location as string;
      ids.set(e.fullUrl as string, location.split('/').slice(0, 2).join('/'));
    });
    const rewritten = text.replace(/"urn:uuid:[0-9a-f-]+"/g, (m) => JSON.stringify(ids.get(m.slice(1, -1)) ?? m.slice(1, -1)));
    (JSON.parse(rewritten) as Bundle).entry?.forEach((e, i) => {
      const [type, id] = (ids.get(bundle.entry?.[i].fullUrl as string) as string).split('/');
      resources.push({ ...(e.resource as Resource), id } as Resource);
      expect(e.resource?.resourceType).toBe(type);
    });
  }
  return { resources };
}

const ofType = <T extends Resource>(data: Loaded, type: T['resourceType']): T[] => data.resources.filter((r): r is T => r.resourceType === type);
const hasCode = (concept: { coding?: Array<{ system?: string; code?: string }> } | undefined, system: string, code: string): boolean =>
  !!concept?.coding?.some((c) => c.system === system && c.code === code);
const fold = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

async function total(baseUrl: string, query: string): Promise<number> {
  return (await search(baseUrl, `${query}${query.includes('?') ? '&' : '?'}_summary=count`)).total as number;
}

const missing = syntheaMissing();
if (missing) {
  console.warn(missing);
  describe.skip(missing, () => it('needs ../shared/conformance/synthea-r4', () => undefined));
} else {
  describeEachEngine('search over Synthea: analyst searches equal a scan of the files', (engine) => {
    let s: TestServer;
    let data: Loaded;
    let patient: Patient;
    beforeAll(async () => {
      s = await startTestServer(engine, { STRIDE_MAX_COUNT: '1000' });
      data = await loadSynthea(s.baseUrl);
      // The patient with the most observations: its searches have the most to get wrong.
      const counts = new Map<string, number>();
      for (const o of ofType<Observation>(data, 'Observation')) counts.set(o.subject?.reference as string, (counts.get(o.subject?.reference as string) ?? 0) + 1);
      const top = [...counts].sort((a, b) => b[1] - a[1])[0][0];
      patient = ofType<Patient>(data, 'Patient').find((p) => `Patient/${p.id}` === top) as Patient;
    }, 600_000);
    afterAll(async () => s?.close());

    it('Observations by code and value range', async () => {
      const observations = ofType<Observation>(data, 'Observation');
      const heavy = observations.filter((o) => hasCode(o.code, LOINC, BODY_WEIGHT) && (o.valueQuantity?.value ?? 0) > 80).length;
      expect(heavy).toBeGreaterThan(0);
      expect(await total(s.baseUrl, `Observation?code=${LOINC}|${BODY_WEIGHT}&value-quantity=gt80`)).toBe(heavy);
      expect(await total(s.baseUrl, `Observation?code-value-quantity=${LOINC}|${BODY_WEIGHT}$gt80`)).toBe(heavy);
      const weights = observations.filter((o) => hasCode(o.code, LOINC, BODY_WEIGHT)).length;
      expect(await total(s.baseUrl, `Observation?code=${LOINC}|${BODY_WEIGHT}`)).toBe(weights);
      const hypertensive = observations.filter((o) => o.component?.some((c) => hasCode(c.code, LOINC, SYSTOLIC) && (c.valueQuantity?.value ?? 0) >= 140)).length;
      expect(await total(s.baseUrl, `Observation?component-code-value-quantity=${LOINC}|${SYSTOLIC}$ge140`)).toBe(hypertensive);
    });

    it('Observations by patient and date range', async () => {
      const from = Date.parse('2015-01-01T00:00:00Z');
      const to = Date.parse('2018-01-01T00:00:00Z');
      const expected = ofType<Observation>(data, 'Observation').filter((o) => {
        const t = Date.parse(o.effectiveDateTime as string);
        return o.subject?.reference === `Patient/${patient.id}` && t >= from && t < to;
      });
      expect(expected.length).toBeGreaterThan(0);
      expect(await total(s.baseUrl, `Observation?subject=Patient/${patient.id}&date=ge2015-01-01&date=lt2018-01-01`)).toBe(expected.length);
      expect(await total(s.baseUrl, `Patient/${patient.id}/Observation?date=ge2015-01-01&date=lt2018-01-01`)).toBe(expected.length);
    });

    it('Encounters with _revinclude of their Procedures, page by page', async () => {
      const encounters = ofType<Encounter>(data, 'Encounter');
      const procedures = ofType<Procedure>(data, 'Procedure').filter((p) => p.encounter?.reference?.startsWith('Encounter/'));
      let url: string | undefined = `${s.baseUrl}/Encounter?_revinclude=Procedure:encounter&_count=100`;
      const matched: string[] = [];
      const included: string[] = [];
      while (url) {
        const page: Bundle = (await fhir<Bundle>(url, 'GET', '')).body;
        matched.push(...keys(page));
        included.push(...keys(page, 'include'));
        url = link(page, 'next');
      }
      expect(matched).toHaveLength(encounters.length);
      expect(new Set(matched).size).toBe(encounters.length);
      expect(included.sort()).toEqual(procedures.map((p) => `Procedure/${p.id}`).sort());
      const mine = encounters.filter((e) => e.subject?.reference === `Patient/${patient.id}`).map((e) => `Encounter/${e.id}`);
      const b = await search(s.baseUrl, `Encounter?subject=Patient/${patient.id}&_revinclude=Procedure:encounter&_count=1000`);
      expect(keys(b)).toEqual([...mine].sort());
      expect(keys(b, 'include')).toEqual(procedures.filter((p) => mine.includes(p.encounter?.reference as string)).map((p) => `Procedure/${p.id}`).sort());
    });

    it('a chain through Patient.name', async () => {
      const family = fold(patient.name?.[0].family as string).slice(0, 5);
      const named = new Set(
        ofType<Patient>(data, 'Patient')
          .filter((p) => p.name?.some((n) => [n.family, ...(n.given ?? []), ...(n.prefix ?? []), ...(n.suffix ?? []), n.text].some((part) => part && fold(part).startsWith(family))))
          .map((p) => `Patient/${p.id}`),
      );
      const expected = ofType<Observation>(data, 'Observation').filter((o) => named.has(o.subject?.reference as string)).length;
      expect(expected).toBeGreaterThan(0);
      expect(await total(s.baseUrl, `Observation?subject:Patient.name=${encodeURIComponent(family)}`)).toBe(expected);
      expect(await total(s.baseUrl, `Observation?patient.name=${encodeURIComponent(family)}`)).toBe(expected);
    });
  });
}
