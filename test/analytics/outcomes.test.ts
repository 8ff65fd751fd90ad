/**
 * $outcomes (issue 22 point 5, Show): generated episodes of care with known numbers (seeded), written over HTTP; the
 * expected baseline, latest, change, MCID verdict, visits and units are computed here from the generator's own plan,
 * not from the resources; the report must give exactly those, as JSON and CSV, for a patient and for filtered cohorts;
 * the SVG charts hold the points and the MCID band. On both engines.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { prng } from '../support/random.js';

/** The published MCIDs the report must apply (mcid.json: Perera et al. 2006); TUG has none sourced. */
const MCID: Record<string, number | null> = { gait_speed: 0.05, six_minute_walk: 20, tug: null };
const MEASURES = [
  { measure: 'gait_speed', code: '83172-7', unit: 'm/s', lowerIsBetter: false },
  { measure: 'six_minute_walk', code: '64098-7', unit: 'm', lowerIsBetter: false },
  { measure: 'tug', code: '89423-8', unit: 's', lowerIsBetter: true },
];

interface PlannedSession {
  id: string;
  date: string;
  clinic: string;
  role: string;
  units: number;
  finished: boolean;
  /** measure -> value measured in this session (in the measure's unit) */
  values: Record<string, number>;
}

interface PlannedEpisode {
  patient: string;
  id: string;
  diagnosis: string;
  payer: string;
  sessions: PlannedSession[];
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Three patients; patient 0 has two episodes a year apart. Values drift from a baseline by a random step a session. */
function plan(random: () => number): PlannedEpisode[] {
  const episodes: PlannedEpisode[] = [];
  const specs = [
    { patient: 'op0', start: '2026-01-05', clinic: 'clinicA', role: 'roleA', diagnosis: 'R26.89', payer: 'payerM' },
    { patient: 'op0', start: '2027-02-01', clinic: 'clinicB', role: 'roleB', diagnosis: 'Z96.641', payer: 'payerM' },
    { patient: 'op1', start: '2026-03-02', clinic: 'clinicA', role: 'roleB', diagnosis: 'R26.2', payer: 'payerC' },
    { patient: 'op2', start: '2026-05-04', clinic: 'clinicB', role: 'roleA', diagnosis: 'Z96.641', payer: 'payerC' },
  ];
  specs.forEach((spec, e) => {
    const count = 4 + Math.floor(random() * 4);
    const base = { gait_speed: 0.4 + Math.round(random() * 40) / 100, six_minute_walk: 150 + Math.round(random() * 200), tug: 12 + Math.round(random() * 100) / 10 };
    const sessions: PlannedSession[] = [];
    for (let k = 0; k < count; k++) {
      const values: Record<string, number> = {};
      // Measured at the first and last session, and now and then between; the six-minute walk not in episode 3.
      for (const m of MEASURES) {
        if (m.measure === 'six_minute_walk' && e === 3) continue;
        if (k === 0 || k === count - 1 || random() < 0.4) {
          // Episode 1's gait speed barely moves (below the MCID); the others' mostly reach it.
          const step = m.measure === 'gait_speed' ? (e === 1 ? 0.005 : Math.round(random() * 8) / 100) : m.measure === 'six_minute_walk' ? Math.round(random() * 15) : -Math.round(random() * 10) / 10;
          values[m.measure] = Math.round((base[m.measure as keyof typeof base] + k * step) * 100) / 100;
        }
      }
      sessions.push({ id: `s${e}-${k}`, date: addDays(spec.start, 7 * k), clinic: spec.clinic, role: spec.role, units: 2 + Math.floor(random() * 3), finished: k !== 2, values });
    }
    episodes.push({ patient: spec.patient, id: `ep${e}`, diagnosis: spec.diagnosis, payer: spec.payer, sessions });
  });
  return episodes;
}

interface Expected {
  patient: string;
  episode: string;
  measure: string;
  measurements: number;
  baseline: number;
  latest: number;
  change: number | null;
  reachesMcid: boolean | null;
  visits: number;
  units: number;
}

/** What the report must say, from the plan: first and last measurement, sessions and units between their dates. */
function expected(episodes: PlannedEpisode[], keep: (e: PlannedEpisode) => boolean = () => true): Expected[] {
  const out: Expected[] = [];
  for (const e of episodes.filter(keep)) {
    for (const m of MEASURES) {
      const measured = e.sessions.filter((s) => s.values[m.measure] !== undefined);
      if (measured.length === 0) continue;
      const first = measured[0];
      const last = measured[measured.length - 1];
      // One measurement: no change yet, and no verdict.
      const change = measured.length < 2 ? null : Math.round((last.values[m.measure] - first.values[m.measure]) * 1e6) / 1e6;
      const between = e.sessions.filter((s) => s.date >= first.date && s.date <= last.date);
      const mcid = MCID[m.measure];
      out.push({
        patient: `Patient/${e.patient}`,
        episode: `EpisodeOfCare/${e.id}`,
        measure: m.measure,
        measurements: measured.length,
        baseline: first.values[m.measure],
        latest: last.values[m.measure],
        change,
        reachesMcid: mcid === null || change === null ? null : (m.lowerIsBetter ? -change : change) >= mcid - 1e-9,
        visits: between.filter((s) => s.finished).length,
        units: between.reduce((n, s) => n + s.units, 0),
      });
    }
  }
  return out.sort((a, b) => (a.patient + a.episode + a.measure < b.patient + b.episode + b.measure ? -1 : 1));
}

function bundleOf(episodes: PlannedEpisode[]): unknown {
  const put = (resource: Record<string, unknown>) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } });
  const entry: unknown[] = [
    put({ resourceType: 'Organization', id: 'clinicA', name: 'Clinic A' }),
    put({ resourceType: 'Organization', id: 'clinicB', name: 'Clinic B' }),
    put({ resourceType: 'Organization', id: 'payerM', name: 'Medicare' }),
    put({ resourceType: 'Organization', id: 'payerC', name: 'Commercial' }),
    put({ resourceType: 'Practitioner', id: 'ptA' }),
    put({ resourceType: 'Practitioner', id: 'ptB' }),
    put({ resourceType: 'PractitionerRole', id: 'roleA', practitioner: { reference: 'Practitioner/ptA' } }),
    put({ resourceType: 'PractitionerRole', id: 'roleB', practitioner: { reference: 'Practitioner/ptB' } }),
  ];
  for (const patient of new Set(episodes.map((e) => e.patient))) entry.push(put({ resourceType: 'Patient', id: patient }));
  for (const e of episodes) {
    const subject = { reference: `Patient/${e.patient}` };
    const start = e.sessions[0].date;
    const end = e.sessions[e.sessions.length - 1].date;
    entry.push(put({ resourceType: 'EpisodeOfCare', id: e.id, status: 'finished', patient: subject }));
    entry.push(put({ resourceType: 'Condition', id: `dx-${e.id}`, subject, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: e.diagnosis }] } }));
    entry.push(put({ resourceType: 'Coverage', id: `cov-${e.id}`, status: 'active', beneficiary: subject, payor: [{ reference: `Organization/${e.payer}` }], period: { start, end } }));
    for (const s of e.sessions) {
      entry.push(
        put({
          resourceType: 'Encounter',
          id: s.id,
          status: s.finished ? 'finished' : 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject,
          period: { start: `${s.date}T09:00:00Z`, end: `${s.date}T10:00:00Z` },
          episodeOfCare: [{ reference: `EpisodeOfCare/${e.id}` }],
          serviceProvider: { reference: `Organization/${s.clinic}` },
          participant: [{ individual: { reference: `PractitionerRole/${s.role}` } }],
          diagnosis: [{ condition: { reference: `Condition/dx-${e.id}` }, rank: 1 }],
        }),
      );
      entry.push(
        put({ resourceType: 'ChargeItem', id: `ci-${s.id}`, status: 'billable', code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97116' }] }, subject, context: { reference: `Encounter/${s.id}` }, occurrenceDateTime: s.date, quantity: { value: s.units } }),
      );
      // A line withdrawn by billing: its units are not counted.
      entry.push(
        put({ resourceType: 'ChargeItem', id: `ci-x-${s.id}`, status: 'entered-in-error', code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97110' }] }, subject, context: { reference: `Encounter/${s.id}` }, occurrenceDateTime: s.date, quantity: { value: 9 } }),
      );
      for (const m of MEASURES) {
        const value = s.values[m.measure];
        if (value === undefined) continue;
        entry.push(
          put({
            resourceType: 'Observation',
            id: `o-${m.measure.replace(/_/g, '')}-${s.id}`,
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'therapy' }] }],
            code: { coding: [{ system: 'http://loinc.org', code: m.code }] },
            subject,
            encounter: { reference: `Encounter/${s.id}` },
            effectiveDateTime: `${s.date}T09:30:00Z`,
            performer: [{ reference: `PractitionerRole/${s.role}` }],
            valueQuantity: { value, unit: m.unit, system: 'http://unitsofmeasure.org', code: m.unit },
          }),
        );
      }
    }
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

type Reported = Expected & { baselineDate: string };

function reported(body: { outcomes: Array<Record<string, any>> }): Expected[] {
  return body.outcomes.map((o) => ({
    patient: o.patient,
    episode: o.episode,
    measure: o.measure,
    measurements: o.measurements,
    baseline: o.baseline.value,
    latest: o.latest.value,
    change: o.change === null ? null : Math.round(o.change * 1e6) / 1e6,
    reachesMcid: o.reachesMcid,
    visits: o.visits,
    units: o.units,
  }));
}

function svgGroups(svg: string, suffix: string): Element[] {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  return Array.from(doc.getElementsByTagName('g')).filter((g) => (g.getAttribute('class') ?? '').split(' ').includes(`${suffix}_marks`));
}

function labels(group: Element): string[] {
  return Array.from(group.getElementsByTagName('path')).map((p) => p.getAttribute('aria-label') ?? '');
}

describeEachEngine('$outcomes over generated episodes', (engine) => {
  let s: TestServer;
  const episodes = plan(prng(9722));
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BOTS_DIR: '' });
    const res = await fhir(s.baseUrl, 'POST', '', bundleOf(episodes));
    expect(res.status, res.text.slice(0, 500)).toBe(200);
  });
  afterAll(async () => s?.close());

  it("gives a patient's baseline, latest, change, MCID verdict, visits and units", async () => {
    const res = await fhir(s.baseUrl, 'GET', 'Patient/op0/$outcomes');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reported(res.body)).toEqual(expected(episodes, (e) => e.patient === 'op0'));
    const gait = res.body.outcomes.find((o: Reported) => o.measure === 'gait_speed');
    expect(gait.mcid.source).toMatch(/Perera/);
    expect(gait.points.length).toBe(gait.measurements);
  });

  it('gives the cohort, and each filter keeps only its episodes', async () => {
    const all = await fhir(s.baseUrl, 'GET', '$outcomes');
    expect(all.status).toBe(200);
    expect(reported(all.body)).toEqual(expected(episodes));
    const gaitSummary = all.body.summary.find((m: { measure: string }) => m.measure === 'gait_speed');
    const gaits = expected(episodes).filter((o) => o.measure === 'gait_speed');
    expect(gaitSummary.reachingMcid).toBe(gaits.filter((o) => o.reachesMcid).length);
    // The generated numbers cover both verdicts, so the MCID check is tested both ways.
    expect(new Set(gaits.map((o) => o.reachesMcid))).toEqual(new Set([true, false]));
    const cases: Array<[string, (e: PlannedEpisode) => boolean]> = [
      ['clinic=Organization/clinicA', (e) => e.sessions[0].clinic === 'clinicA'],
      ['therapist=Practitioner/ptB', (e) => e.sessions[0].role === 'roleB'],
      ['therapist=PractitionerRole/roleA', (e) => e.sessions[0].role === 'roleA'],
      ['payer=Organization/payerC', (e) => e.payer === 'payerC'],
      ['diagnosis=Z96.641', (e) => e.diagnosis === 'Z96.641'],
      ['diagnosis=R26', (e) => e.diagnosis.startsWith('R26')],
      ['period=ge2027-01-01', (e) => e.sessions[0].date >= '2027-01-01'],
    ];
    for (const [query, keep] of cases) {
      const res = await fhir(s.baseUrl, 'GET', `$outcomes?${query}`);
      expect(res.status, query).toBe(200);
      expect(reported(res.body), query).toEqual(expected(episodes, keep));
    }
  });

  it('counts only the measurements inside the period', async () => {
    const ep = episodes[0];
    const cut = ep.sessions[2].date;
    const res = await fhir(s.baseUrl, 'GET', `Patient/op0/$outcomes?period=lt${cut}`);
    const trimmed = { ...ep, sessions: ep.sessions.filter((x) => x.date < cut) };
    expect(reported(res.body)).toEqual(expected([trimmed]));
  });

  it('answers CSV', async () => {
    const res = await fetch(`${s.baseUrl}/$outcomes?_format=csv`);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split('\r\n');
    const head = lines[0].split(',');
    expect(head).toContain('reaches_mcid');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
    const want = expected(episodes);
    expect(rows.length).toBe(want.length);
    rows.forEach((r, i) => {
      expect(r.patient).toBe(want[i].patient);
      expect(Number(r.baseline_value)).toBe(want[i].baseline);
      expect(Number(r.units)).toBe(want[i].units);
      expect(r.reaches_mcid).toBe(want[i].reachesMcid === null ? '' : String(want[i].reachesMcid));
    });
    const viaAccept = await fetch(`${s.baseUrl}/Patient/op1/$outcomes`, { headers: { accept: 'text/csv' } });
    expect(viaAccept.headers.get('content-type')).toMatch(/^text\/csv/);
  });

  it("draws a patient's measures over time with the MCID band", async () => {
    const res = await fetch(`${s.baseUrl}/Patient/op1/$outcomes?_format=svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await res.text();
    const json = (await fhir(s.baseUrl, 'GET', 'Patient/op1/$outcomes')).body;
    json.outcomes.forEach((o: { measure: string; points: Array<{ value: number }>; baseline: { value: number }; mcid: { value: number } | null }, i: number) => {
      const points = svgGroups(svg, `o${i}_points`);
      expect(points).toHaveLength(1);
      // Each point's label ends with its value ("date: Mar 02, 2026; m/s: 0.54").
      const values = labels(points[0]).map((l) => Number(/: ([\d.]+)$/.exec(l)?.[1]));
      expect(values).toEqual(o.points.map((p) => p.value));
      const band = svgGroups(svg, `o${i}_band`);
      if (o.mcid === null) expect(band).toHaveLength(0);
      else {
        const [label] = labels(band[0]);
        const [low, high] = [/low: ([\d.]+)/, /high: ([\d.]+)/].map((r) => Number(r.exec(label)?.[1]));
        expect(low).toBeCloseTo(o.baseline.value - o.mcid.value, 6);
        expect(high).toBeCloseTo(o.baseline.value + o.mcid.value, 6);
      }
    });
    expect(json.outcomes.some((o: { mcid: unknown }) => o.mcid !== null)).toBe(true);
  });

  it("draws a cohort's distribution of changes with the band", async () => {
    const svg = await (await fetch(`${s.baseUrl}/$outcomes`, { headers: { accept: 'image/svg+xml' } })).text();
    const want = expected(episodes);
    const measures = [...new Set(want.map((o) => o.measure))].sort();
    measures.forEach((measure, i) => {
      const bars = svgGroups(svg, `m${i}_bars`);
      expect(bars, measure).toHaveLength(1);
      const counted = labels(bars[0]).reduce((n, l) => n + Number(/outcomes: (\d+)/.exec(l)?.[1] ?? 0), 0);
      expect(counted, measure).toBe(want.filter((o) => o.measure === measure && o.change !== null).length);
      expect(svgGroups(svg, `m${i}_band`), measure).toHaveLength(MCID[measure] === null ? 0 : 1);
    });
  });

  it('refuses bad input with an OperationOutcome, and is listed in /metadata', async () => {
    expect((await fhir(s.baseUrl, 'GET', 'Patient/nobody/$outcomes')).status).toBe(404);
    const period = await fhir(s.baseUrl, 'GET', '$outcomes?period=soon');
    expect(period.status).toBe(400);
    expect(period.body.issue[0].details.text).toMatch(/period/);
    expect((await fhir(s.baseUrl, 'GET', '$outcomes?_format=pdf')).status).toBe(400);
    expect((await fhir(s.baseUrl, 'GET', '$outcomes?colour=red')).status).toBe(400);
    const meta = await fhir(s.baseUrl, 'GET', 'metadata');
    expect(meta.body.rest[0].operation.map((o: { name: string }) => o.name)).toContain('outcomes');
    const patient = meta.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    expect(patient.operation.map((o: { name: string }) => o.name)).toContain('outcomes');
    expect((await fhir(s.baseUrl, 'GET', 'OperationDefinition/Patient-outcomes')).body.code).toBe('outcomes');
  });
});
